package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the multi-node model cases of the ONNX backend suite ({@code ../shared/testdata/onnx-backend/
 * pytorch-operator}, {@code pytorch-converted} and {@code simple}) through the real compiler: each
 * {@code model.onnx} is compiled with the concrete input shapes of its test data
 * ({@link Simulator#compile}), run as a float program, and every {@code test_data_set_N}'s outputs
 * compared with the goldens (floats within rtol 1e-4 / atol 1e-5, integers exactly, shapes and
 * element types equal). A case the compiler rejects as unsupported, or whose graph inputs/outputs
 * are not tensors of a type the simulator has, is skipped with its reason; anything else that
 * goes wrong, including another compile error, is a failure.
 */
class OnnxModelConformanceTest {
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-5;

    private static final class CaseSkipped extends Exception {
        CaseSkipped(String reason) {
            super(reason, null, false, false);
        }
    }

    private static final class CaseFailed extends Exception {
        CaseFailed(String detail) {
            super(detail, null, false, false);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pytorch-operator", "pytorch-converted", "simple"})
    void modelCasesMatchGoldenOutputs(String folder) throws IOException {
        Path suite = OnnxBackendConformanceTest.projectRoot()
                .resolve("../shared/testdata/onnx-backend")
                .normalize();
        Path root = suite.resolve(folder);
        Assumptions.assumeTrue(Files.isDirectory(root), root + " not found: model conformance skipped");
        List<Path> cases;
        try (Stream<Path> s = Files.list(root)) {
            cases = s.filter(p -> Files.isRegularFile(p.resolve("model.onnx")))
                    .sorted()
                    .toList();
        }
        int passed = 0;
        List<String> failures = new ArrayList<>();
        Map<String, List<String>> skipped = new TreeMap<>();
        for (Path dir : cases) {
            String name = dir.getFileName().toString();
            try {
                runCase(dir);
                passed++;
            } catch (CaseSkipped e) {
                skipped.computeIfAbsent(e.getMessage(), k -> new ArrayList<>()).add(name);
            } catch (CaseFailed e) {
                failures.add(name + ": " + e.getMessage());
            }
        }
        int nSkipped = skipped.values().stream().mapToInt(List::size).sum();
        StringBuilder report = new StringBuilder();
        report.append(String.format(
                "ONNX backend %s conformance: %d ran, %d passed, %d failed, %d skipped%n",
                folder, passed + failures.size(), passed, failures.size(), nSkipped));
        for (String f : failures) {
            report.append("  FAILED ").append(f).append('\n');
        }
        if (!skipped.isEmpty()) {
            report.append("Skipped, by reason:\n");
        }
        skipped.entrySet().stream()
                .sorted((a, b) ->
                        Integer.compare(b.getValue().size(), a.getValue().size()))
                .forEach(e -> report.append(String.format(
                        "  %3d  %s  %s%n",
                        e.getValue().size(),
                        e.getKey(),
                        e.getValue().size() <= 4
                                ? e.getValue()
                                : e.getValue().subList(0, 4) + " and "
                                        + (e.getValue().size() - 4) + " more")));
        System.out.print(report);
        assertTrue(
                failures.isEmpty(),
                failures.size() + " " + folder + " case(s) failed:\n" + String.join("\n", failures));
    }

    private static void runCase(Path dir) throws CaseSkipped, CaseFailed {
        Path modelFile = dir.resolve("model.onnx");
        Graph g;
        try {
            ModelProto model = OnnxGraphs.readModel(modelFile);
            for (ValueInfoProto v : model.getGraph().getInputList()) {
                requireTensorType(v);
            }
            for (ValueInfoProto v : model.getGraph().getOutputList()) {
                requireTensorType(v);
            }
            g = OnnxGraphs.toGraph(model, dir);
        } catch (SimulatorException e) {
            throw new CaseSkipped("model not loadable: " + e.getMessage().replaceAll("'[^']*'", "'…'"));
        }
        List<Path> sets;
        try (Stream<Path> s = Files.list(dir)) {
            sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_") && Files.isDirectory(p))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new CaseFailed("cannot list " + dir + ": " + e.getMessage());
        }
        if (sets.isEmpty()) {
            throw new CaseSkipped("no test_data_set_N folder");
        }
        for (Path set : sets) {
            runDataSet(modelFile, g, set);
        }
    }

    private static void runDataSet(Path modelFile, Graph g, Path set) throws CaseSkipped, CaseFailed {
        String where = set.getFileName() + ": ";
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        List<ValueInfo> inputs = g.inputs();
        for (int i = 0; ; i++) {
            Path f = set.resolve("input_" + i + ".pb");
            if (!Files.exists(f)) {
                break;
            }
            TensorProto p = readProto(f);
            // The golden file names its input; older exports leave the name empty: position decides.
            String name = !p.getName().isEmpty()
                            && inputs.stream().anyMatch(v -> v.name().equals(p.getName()))
                    ? p.getName()
                    : i < inputs.size() ? inputs.get(i).name() : null;
            if (name == null) {
                throw new CaseFailed(where + "input_" + i + ".pb has no matching graph input in "
                        + inputs.stream().map(ValueInfo::name).toList());
            }
            Tensor t = toTensor(p, set);
            feeds.put(name, t);
            shapes.put(name, t.shape());
        }
        NpuProgram program;
        try {
            program = Simulator.compile(modelFile, CompileOptions.DEFAULT.withInputShapes(shapes));
        } catch (SimulatorException e) {
            if (e.code() == SimulatorException.Code.UNSUPPORTED_OP) {
                throw new CaseSkipped(
                        e.getMessage().replaceAll("'[^']*' \\(", "(").replaceAll("\\d+ nodes?: ", ""));
            }
            throw new CaseFailed(where + "compile failed: " + e.code() + ": " + e.getMessage());
        }
        Map<String, LayerValue> result;
        try {
            result = program.run(feeds, LayerObserver.NONE);
        } catch (SimulatorException | RuntimeException e) {
            throw new CaseFailed(where + "run failed: " + e);
        }
        List<String> outputs = program.outputs();
        for (int i = 0; i < outputs.size(); i++) {
            Path f = set.resolve("output_" + i + ".pb");
            if (!Files.exists(f)) {
                throw new CaseFailed(where + "no golden " + f.getFileName() + " for output '" + outputs.get(i) + "'");
            }
            Tensor expected = toTensor(readProto(f), set);
            LayerValue v = result.get(outputs.get(i));
            if (v == null) {
                throw new CaseFailed(where + "output '" + outputs.get(i) + "' was not produced");
            }
            String mismatch = OnnxBackendConformanceTest.firstMismatch(expected, v.real(), RTOL, ATOL);
            if (mismatch != null) {
                throw new CaseFailed(where + "output '" + outputs.get(i) + "' " + mismatch);
            }
        }
    }

    private static void requireTensorType(ValueInfoProto v) throws CaseSkipped {
        if (v.hasType() && !v.getType().hasTensorType()) {
            throw new CaseSkipped(
                    "graph input or output of non-tensor type " + v.getType().getValueCase());
        }
        int elem = v.hasType() ? v.getType().getTensorType().getElemType() : 0;
        if (elem != 0 && DType.fromOnnx(elem) == null) {
            throw new CaseSkipped("graph input or output of type " + TensorProto.DataType.forNumber(elem)
                    + ", which the simulator lacks");
        }
    }

    private static TensorProto readProto(Path f) throws CaseFailed {
        try {
            return TensorProtos.readFile(f);
        } catch (IOException e) {
            throw new CaseFailed("cannot read " + f + ": " + e.getMessage());
        }
    }

    private static Tensor toTensor(TensorProto p, Path dir) throws CaseSkipped {
        try {
            return TensorProtos.toTensor(p, dir);
        } catch (IllegalArgumentException e) {
            throw new CaseSkipped("test data: " + e.getMessage().replaceAll("'[^']*'", "'…'"));
        }
    }
}
