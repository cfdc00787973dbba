package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.kernels.FloatKernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layers inside the branches of an If in a float program (docs/architecture.md#layer-identity):
 * every node of {@code then_branch} and {@code else_branch} except Constant nodes is a layer named
 * by its first output, placed before the If layer. These layers are not run by the program's loop:
 * the If layer runs its branch and the program reports the values of the branch taken under these
 * layers (the other branch's layers get no value in that run). Each still has its own exec, so that
 * it can run alone on given inputs. Nodes inside a Loop or Scan body, or nested deeper, are not
 * layers: a Loop or Scan is one layer.
 */
final class BranchLayers {
    private BranchLayers() {}

    /**
     * Appends the branch layers of an If node to {@code layers} and {@code execs}, recording each in
     * {@code branchOf} (layer name to the If layer's name). {@code taken} holds the names already in
     * use; a branch value whose name repeats one of them is not made a layer.
     */
    static void add(
            Node ifNode,
            String ifLayer,
            Set<String> taken,
            List<Layer> layers,
            List<LayerExec> execs,
            Map<String, String> branchOf) {
        for (String attr : List.of("then_branch", "else_branch")) {
            Attribute a = ifNode.attr(attr);
            if (a == null || a.kind() != Attribute.Kind.GRAPH) {
                continue;
            }
            Graph branch = a.g();
            Map<String, Tensor> constants = new HashMap<>(branch.constants());
            for (Node n : branch.nodes()) {
                if (n.opType().equals("Constant") && n.outputs().size() == 1) {
                    constants.put(
                            n.output(0), FloatKernels.create(n, branch.opset()).run(new Tensor[0])[0]);
                    continue;
                }
                if (n.outputs().isEmpty() || n.output(0).isEmpty() || !taken.add(n.output(0))) {
                    continue;
                }
                Set<String> reads = new LinkedHashSet<>(n.inputs());
                reads.addAll(Subgraphs.outerReads(n));
                List<String> inputs = new ArrayList<>();
                for (String r : reads) {
                    if (!r.isEmpty() && !constants.containsKey(r)) {
                        inputs.add(r);
                    }
                }
                Graph alone = new Graph(branch.name(), List.of(n), constants, List.of(), List.of(), branch.opsets());
                Map<String, String> attrs = new LinkedHashMap<>();
                n.attributes().forEach((k, v) -> attrs.put(k, v.display()));
                attrs.put("in_branch", attr + " of " + ifNode.name());
                layers.add(new Layer(
                        layers.size(),
                        n.output(0),
                        n.opType(),
                        List.copyOf(inputs),
                        List.copyOf(n.outputs()),
                        List.of(n.name()),
                        List.of(),
                        attrs,
                        Placements.placement(n.opType()),
                        null));
                execs.add(FloatLayers.build(alone, List.of(n), inputs));
                branchOf.put(n.output(0), ifLayer);
            }
        }
    }
}
