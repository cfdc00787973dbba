package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The compiler's support check, run once before any layer is planned: every node must be in the
 * default ONNX domain, have a registered float kernel, and that kernel's factory must accept the
 * node's attributes ({@link FloatKernels#create} succeeds). All problems of the graph are reported
 * together in one {@link SimulatorException} with {@link Code#UNSUPPORTED_OP}, so a user learns
 * everything a model needs in one run instead of one failure per attempt.
 *
 * <p>Message contract: it starts with {@code "unsupported op"}, then lists the failing nodes in
 * graph order as {@code '<node name>' (<op type>), opset <N>: <reason>} (op type prefixed with
 * its domain outside the default one; {@code '<node name>' (<op type>)} is kept intact because
 * callers and tests search for it), the reason being {@code "no kernel"} or the kernel's own
 * message naming the bad attribute value and the valid ones. At most {@value #MAX_LISTED} nodes
 * are listed, followed by how many more there are.
 */
public final class KernelValidation {
    /** Nodes listed in the message; a model built from unsupported blocks can have hundreds. */
    static final int MAX_LISTED = 20;

    private KernelValidation() {}

    /**
     * Checks every node of the graph.
     *
     * @throws SimulatorException with {@link Code#UNSUPPORTED_OP} listing every unsupported node
     */
    public static void check(Graph g) throws SimulatorException {
        List<String> problems = new ArrayList<>();
        Set<String> ops = new TreeSet<>();
        for (Node n : g.nodes()) {
            String reason = problem(g, n);
            if (reason != null) {
                boolean onnxDomain = isOnnxDomain(n.domain());
                String op = onnxDomain ? n.opType() : n.domain() + "." + n.opType();
                int opset = g.opsets().getOrDefault(onnxDomain ? "" : n.domain(), onnxDomain ? g.opset() : 1);
                problems.add("'" + n.name() + "' (" + op + "), opset " + opset + ": " + reason);
                ops.add(op);
            }
        }
        if (problems.isEmpty()) {
            return;
        }
        StringBuilder msg = new StringBuilder("unsupported op")
                .append(ops.size() > 1 ? "s " : " ")
                .append(ops)
                .append(" in ")
                .append(problems.size())
                .append(problems.size() > 1 ? " nodes: " : " node: ");
        msg.append(String.join("; ", problems.subList(0, Math.min(MAX_LISTED, problems.size()))));
        if (problems.size() > MAX_LISTED) {
            msg.append("; and ").append(problems.size() - MAX_LISTED).append(" more");
        }
        throw new SimulatorException(Code.UNSUPPORTED_OP, msg.toString());
    }

    /** Why the node cannot run, or null if it can. */
    private static String problem(Graph g, Node n) {
        if (!isOnnxDomain(n.domain())) {
            // The registry is keyed by op type of the default domain: a same-named custom op
            // (e.g. com.microsoft.Gelu) has different semantics, so it is not taken as supported.
            return "no kernel for domain " + n.domain();
        }
        if (!FloatKernels.supports(n.opType())) {
            return "no kernel";
        }
        try {
            FloatKernels.create(n, g.opset());
            return null;
        } catch (IllegalArgumentException e) {
            // FloatKernels prefixes the node and op, which this message already names.
            return e.getMessage()
                    .replaceFirst("^node '.*?' \\(" + java.util.regex.Pattern.quote(n.opType()) + "\\): ", "");
        }
    }

    private static boolean isOnnxDomain(String domain) {
        return domain.isEmpty() || domain.equals("ai.onnx");
    }
}
