package dev.layerprobe.host.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.layerprobe.host.compare.MetricResult;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The result of one analysis, as written to {@code report.json} by {@link ReportWriter}
 * (docs/architecture.md#reports). Layers are in execution order; each carries the four comparisons of docs/architecture.md#three-results-four-comparisons,
 * any of which is null when that column was not computed or the layer has no value there (a
 * tensor inside a fused layer). Immutable.
 *
 * @param model the model path or name
 * @param device what ran the runtime column; null when no device was used
 * @param layers one row per layer, in execution order
 * @param rootCause what localization found
 * @param summary counts and thresholds
 * @param mapping how the layers of dumps were mapped onto each other ({@code compare}); null for
 *                an analysis, whose layers are the simulator's own
 * @param inputs what each input came to, in input order ({@code analyze}); null for {@code compare}
 * @param task what the comparisons mean for the model's task over the inputs; null for {@code compare}
 * @param bisect how the runtime fault was searched for with prefix models, when the device's dumps
 *               were not used for it; null otherwise
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Report(
        String model,
        Device device,
        List<Layer> layers,
        RootCause rootCause,
        Summary summary,
        @JsonInclude(JsonInclude.Include.NON_NULL) Mapping mapping,
        @JsonInclude(JsonInclude.Include.NON_NULL) List<InputResult> inputs,
        @JsonInclude(JsonInclude.Include.NON_NULL) TaskSummary task,
        @JsonInclude(JsonInclude.Include.NON_NULL) Bisect bisect) {
    public Report {
        layers = List.copyOf(layers);
        inputs = inputs == null ? null : List.copyOf(inputs);
    }

    /** A report without per-input results or a bisection. */
    public Report(
            String model, Device device, List<Layer> layers, RootCause rootCause, Summary summary, Mapping mapping) {
        this(model, device, layers, rootCause, summary, mapping, null, null, null);
    }

    /** A report without a dump mapping, per-input results or a bisection. */
    public Report(String model, Device device, List<Layer> layers, RootCause rootCause, Summary summary) {
        this(model, device, layers, rootCause, summary, null);
    }

    /** This report with the per-input results and the task figures of an analysis. */
    public Report withInputs(List<InputResult> results, TaskSummary taskSummary) {
        return new Report(model, device, layers, rootCause, summary, mapping, results, taskSummary, bisect);
    }

    /** This report with {@code b} as its bisection. */
    public Report withBisect(Bisect b) {
        return new Report(model, device, layers, rootCause, summary, mapping, inputs, task, b);
    }

    /**
     * How the runtime fault was searched for by running prefixes of the model on the device, each cut
     * after one layer with the values that the rest of the model reads there as its outputs
     * ({@code analyze --bisect}, or a device that reports only the model's outputs).
     *
     * @param reason why the analysis bisected, e.g. "--bisect"
     * @param input the input file the probes ran on (the analysis' first)
     * @param layer the layer found, or null when the device's outputs match the simulator
     * @param deviceRuns every upload and run on the device for the analysis of that input: the whole
     *                   model's run, each prefix model not found in the cache, and the single-layer
     *                   confirmation when one ran
     * @param maxRuns the most a bisection of this model takes: ⌈log2(layers)⌉ probes, the whole
     *                model's run and the confirmation
     * @param probes every probe, the whole model's run first, in the order they ran
     * @param confirmation how the layer found was confirmed, or null
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Bisect(
            String reason,
            String input,
            String layer,
            int deviceRuns,
            int maxRuns,
            List<Probe> probes,
            String confirmation) {
        public Bisect {
            probes = List.copyOf(probes);
        }
    }

    /**
     * One model run on the device during a bisection and what it showed.
     *
     * @param after the last layer, in execution order, that the prefix computes
     * @param op its op type
     * @param values how many tensors the prefix outputs (the layer's and those the rest of the model
     *               still reads, a residual block's skip connection for one)
     * @param worst the output that departs most from the simulator (lowest cosine)
     * @param cos that output's cosine against the simulator
     * @param verdict {@code matches} (every output matches as simu_err does: bit-exact codes, or float
     *                values within tolerance) or {@code departs}
     * @param source what ran: {@code whole model} (the analysis' own run of the model, its outputs
     *               being the frontier after the last layer), {@code prefix model} (one device run), or
     *               {@code cache} (the same prefix ran before: no device run)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Probe(String after, String op, int values, String worst, double cos, String verdict, String source) {
        public static final String WHOLE_MODEL = "whole model";
        public static final String PREFIX_MODEL = "prefix model";
        public static final String CACHE = "cache";
    }

    /**
     * How {@code compare} matched two dumps' layers to the layers of the table.
     *
     * @param reference the first dump (A) and its layout, e.g. {@code golden (layerprobe)}
     * @param other the second dump (B) and its layout
     * @param referenceMapped how A's layers were mapped, one line per layer ({@code dump name -> layer (method)})
     * @param mapped how B's layers were mapped
     * @param unmappedReference A's layers that map to no layer of the table
     * @param unmapped B's layers that map to no layer of the table
     * @param missing layers of the table that B holds no value for
     * @param simulator the third dump (a snapshot's simulator side) and its layout, when a whole RKNN
     *                  snapshot was compared; null otherwise
     * @param simulatorMapped how the third dump's layers were mapped; null without a third dump
     * @param vendor the vendor tool's own table read beside the dumps, and how it compares with ours;
     *               null when there was none
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Mapping(
            String reference,
            String other,
            List<String> referenceMapped,
            List<String> mapped,
            List<String> unmappedReference,
            List<String> unmapped,
            List<String> missing,
            @JsonInclude(JsonInclude.Include.NON_NULL) String simulator,
            @JsonInclude(JsonInclude.Include.NON_NULL) List<String> simulatorMapped,
            @JsonInclude(JsonInclude.Include.NON_NULL) VendorSource vendor) {
        public Mapping {
            referenceMapped = List.copyOf(referenceMapped);
            mapped = List.copyOf(mapped);
            unmappedReference = List.copyOf(unmappedReference);
            unmapped = List.copyOf(unmapped);
            missing = List.copyOf(missing);
            simulatorMapped = simulatorMapped == null ? null : List.copyOf(simulatorMapped);
        }

        /** A mapping of two dumps, without a third dump or a vendor table. */
        public Mapping(
                String reference,
                String other,
                List<String> referenceMapped,
                List<String> mapped,
                List<String> unmappedReference,
                List<String> unmapped,
                List<String> missing) {
            this(reference, other, referenceMapped, mapped, unmappedReference, unmapped, missing, null, null, null);
        }
    }

    /**
     * The vendor tool's own per-layer table that {@code layerprobe compare} read, and where it and LayerProbe
     * agree: a figure agrees when the vendor's cosine and ours fall in the same band of the summary's
     * thresholds (at or above warn, between wrong and warn, below wrong).
     *
     * @param tool the tool, e.g. {@code rknn-toolkit2}
     * @param source the file read
     * @param form which form of the table it was ({@code cos | euc per cell} or {@code cos per cell})
     * @param rows rows in the table
     * @param mapped how its rows were mapped onto the table's layers, one line per row, as for dumps
     * @param unmapped its rows (with figures) that map to no layer of the table
     * @param compared figures present on both sides
     * @param differences the figures where the two disagree, in layer order
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record VendorSource(
            String tool,
            String source,
            String form,
            int rows,
            List<String> mapped,
            List<String> unmapped,
            int compared,
            List<VendorDifference> differences) {
        public VendorSource {
            mapped = List.copyOf(mapped);
            unmapped = List.copyOf(unmapped);
            differences = List.copyOf(differences);
        }
    }

    /**
     * A figure where the vendor tool and LayerProbe disagree.
     *
     * @param layer the layer (ONNX tensor name)
     * @param column the column ({@code entire}, {@code per_layer}, {@code simu_err}, {@code golden_err})
     * @param cos our cosine
     * @param vendorCos the vendor's cosine
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record VendorDifference(String layer, String column, double cos, double vendorCos) {}

    /**
     * The vendor tool's figures for one layer, beside ours: each is the vendor's figure for the
     * column of ours that compares the same pair of runs, or null where the vendor printed none.
     *
     * @param tool the tool, e.g. {@code rknn-toolkit2}
     * @param source the file the figures come from
     * @param layer the vendor's name for the layer
     * @param op the vendor's op type for it, or null
     * @param entire golden vs simulator, accumulated (RKNN {@code simulator_error entire})
     * @param perLayer golden vs simulator, the layer alone (RKNN {@code single})
     * @param simuErr simulator vs device (RKNN {@code single_sim})
     * @param goldenErr golden vs device, accumulated (RKNN {@code runtime_error entire})
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Vendor(
            String tool,
            String source,
            String layer,
            String op,
            VendorFigure entire,
            VendorFigure perLayer,
            VendorFigure simuErr,
            VendorFigure goldenErr) {

        /** The figure for one of {@code ReportWriter.COLUMNS}' columns, or null. */
        public VendorFigure column(String column) {
            return switch (column) {
                case "entire" -> entire;
                case "per_layer" -> perLayer;
                case "simu_err" -> simuErr;
                case "golden_err" -> goldenErr;
                default -> throw new IllegalArgumentException("unknown column '" + column + "'");
            };
        }
    }

    /**
     * One vendor figure. Non-finite values are written as null.
     *
     * @param cos the cosine similarity
     * @param euc the Euclidean distance, or null when the vendor prints none
     */
    public record VendorFigure(Double cos, Double euc) {
        public VendorFigure {
            cos = cos == null || !Double.isFinite(cos) ? null : cos;
            euc = euc == null || !Double.isFinite(euc) ? null : euc;
        }
    }

    /**
     * The device (or emulated agent) the runtime column came from.
     *
     * @param name device name as the agent reports it
     * @param backend the agent's backend name ({@code sim}, {@code ort}, {@code exec})
     * @param profile device profile name
     * @param faults active faults, e.g. {@code "depth_to_space_mode_swap@upsample1"}
     * @param versions component versions, sorted by component so that report.json is the same from run to run
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Device(
            String name, String backend, String profile, List<String> faults, Map<String, String> versions) {
        public Device {
            faults = faults == null ? List.of() : List.copyOf(faults);
            // Map.copyOf would iterate in an order that changes with every JVM.
            versions = versions == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(versions));
        }
    }

    /**
     * One layer's row.
     *
     * @param name ONNX tensor name
     * @param op ONNX op type
     * @param shape dimensions, C order
     * @param placement "npu", "cpu", or null when not on the device
     * @param entire golden vs simulator, whole network
     * @param perLayer golden vs simulator, the layer fed golden inputs
     * @param simuErr simulator vs runtime
     * @param goldenErr golden vs runtime
     * @param fusedNodes the ONNX nodes this NPU layer covers (the node itself, folded BatchNorms,
     *                   fused activations, pattern members), in graph order
     * @param vendor the vendor tool's own figures for the layer ({@code compare} with a vendor
     *               table), or null
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Layer(
            String name,
            String op,
            int[] shape,
            String placement,
            MetricResult entire,
            MetricResult perLayer,
            MetricResult simuErr,
            MetricResult goldenErr,
            List<String> fusedNodes,
            @JsonInclude(JsonInclude.Include.NON_NULL) Vendor vendor) {
        public Layer {
            fusedNodes = fusedNodes == null ? List.of() : List.copyOf(fusedNodes);
        }

        /** A row without vendor figures. */
        public Layer(
                String name,
                String op,
                int[] shape,
                String placement,
                MetricResult entire,
                MetricResult perLayer,
                MetricResult simuErr,
                MetricResult goldenErr,
                List<String> fusedNodes) {
            this(name, op, shape, placement, entire, perLayer, simuErr, goldenErr, fusedNodes, null);
        }

        /** A row without covered-node information. */
        public Layer(
                String name,
                String op,
                int[] shape,
                String placement,
                MetricResult entire,
                MetricResult perLayer,
                MetricResult simuErr,
                MetricResult goldenErr) {
            this(name, op, shape, placement, entire, perLayer, simuErr, goldenErr, List.of());
        }

        /** This row with the vendor's figures beside ours. */
        public Layer withVendor(Vendor v) {
            return new Layer(name, op, shape, placement, entire, perLayer, simuErr, goldenErr, fusedNodes, v);
        }
    }

    /**
     * What localization concluded.
     *
     * @param runtime the first layer the device computes differently from the simulator, or null
     * @param quantization quantization hot spots, worst first (may be empty)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record RootCause(RuntimeFault runtime, List<HotSpot> quantization) {
        public RootCause {
            quantization = quantization == null ? List.of() : List.copyOf(quantization);
        }

        public static final RootCause NONE = new RootCause(null, List.of());
    }

    /**
     * A layer the device computes wrongly.
     *
     * @param layer ONNX tensor name
     * @param op ONNX op type
     * @param evidence one or more sentences saying why (metrics, RunLayer confirmation)
     */
    public record RuntimeFault(String layer, String op, String evidence) {}

    /**
     * A layer that loses accuracy in quantization.
     *
     * @param layer ONNX tensor name
     * @param op ONNX op type
     * @param cos its per_layer cosine
     * @param cause the likely cause in plain words
     * @param fix the cheapest fix in plain words
     */
    public record HotSpot(String layer, String op, double cos, String cause, String fix) {}

    /**
     * Counts over the layers, by the cosine of the last column computed for each, and the verdicts.
     *
     * @param layers number of rows
     * @param warnings layers with cos below {@code warnCos}
     * @param wrong layers with cos below {@code wrongCos}
     * @param warnCos warning threshold (default 0.99)
     * @param wrongCos wrong threshold (default 0.98)
     * @param verdict one plain sentence: the model's verdict first when its output is off, then the
     *                device's, e.g. "runtime fault at upsample1 (DepthToSpace)"
     * @param modelCase what the quantized model's output says ({@link ModelVerdict#modelCase()}), or
     *                  null when no quantized model was judged (a float run, {@code compare})
     * @param model the figures behind {@code modelCase}, or null with it
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Summary(
            int layers,
            int warnings,
            int wrong,
            double warnCos,
            double wrongCos,
            String verdict,
            String modelCase,
            ModelVerdict model) {
        /** A summary without a model verdict. */
        public Summary(int layers, int warnings, int wrong, double warnCos, double wrongCos, String verdict) {
            this(layers, warnings, wrong, warnCos, wrongCos, verdict, null, null);
        }
    }

    /**
     * The verdict about the quantized model itself (golden vs simulator at its output), apart from
     * the device's. The rules that choose the case live in {@code analyze.ModelVerdicts}.
     *
     * @param modelCase {@code ok} (the output keeps cos at or above warn_cos and the input looks like the
     *                  calibration data), {@code input} (the input does not look like what the model was
     *                  calibrated on: suspect the preprocessing), {@code few_layers} (a few layers make
     *                  most of the error by themselves), {@code spread_amplified} (every layer's own error
     *                  is small; the network amplifies their sum)
     * @param output the output layer judged (the graph output with the lowest entire cos)
     * @param outputCos its entire cos
     * @param outputRelErr its entire rel_euc: ||simulator - golden|| / ||golden||
     * @param layersRelErr sqrt of the sum over every layer of its per_layer rel_euc squared: the output's
     *                     error if each layer's own error reached it unchanged, as independent noise
     * @param amplification {@code outputRelErr / layersRelErr}; null (as are the worst layer's
     *                      figures) when no layer has a per_layer value
     * @param worstLayer the layer with the largest own error (per_layer rel_euc)
     * @param worstLayerCos its per_layer cos
     * @param worstLayerRelErr its per_layer rel_euc
     * @param layers for {@code few_layers}: the layers that make the error, largest first; else empty
     * @param input for {@code input}: the evidence; else null
     * @param check a quick re-run that shows what the fix reaches, or null when none was run
     * @param text the model verdict in plain words, as the diagnosis prints it
     * @param fix what to do, in plain words (the quick check, when one ran, is in {@code check})
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ModelVerdict(
            String modelCase,
            String output,
            double outputCos,
            double outputRelErr,
            Double layersRelErr,
            Double amplification,
            String worstLayer,
            Double worstLayerCos,
            Double worstLayerRelErr,
            List<Culprit> layers,
            InputEvidence input,
            QuickCheck check,
            String text,
            String fix) {
        public ModelVerdict {
            layers = layers == null ? List.of() : List.copyOf(layers);
        }
    }

    /**
     * A layer that makes a large part of the error by itself.
     *
     * @param layer ONNX tensor name
     * @param op op label
     * @param cos its per_layer cos
     * @param share its per_layer rel_euc squared over the sum of that over every layer
     * @param cause the likely cause, as for a hot spot
     * @param fix the fix, as for a hot spot
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Culprit(String layer, String op, double cos, double share, String cause, String fix) {}

    /**
     * Why the input does not look like what the model was calibrated on.
     *
     * @param input the input file judged
     * @param evidence the measurements, in plain words
     * @param likely the preprocessing mix-up that explains them best, e.g. "channels reversed", or null
     * @param outsideRange the largest fraction, over channels, of the input's values outside the range
     *                     the calibration data took in that channel (or, without calibration data, outside
     *                     the input's quantized range)
     * @param distance how far the input's per-channel mean and spread lie from the calibration data's,
     *                 in calibration standard deviations (null without calibration data)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record InputEvidence(String input, String evidence, String likely, double outsideRange, Double distance) {}

    /**
     * A cheap re-run of the simulator that shows what a fix reaches: the first input only, the same
     * calibration, another quantization.
     *
     * @param what the quantization tried, e.g. "every layer in int16"
     * @param input the input file it ran on
     * @param output the output layer compared
     * @param cos entire cos at that output with the fix
     * @param baselineCos entire cos at that output in the run itself, on the same input
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record QuickCheck(String what, String input, String output, double cos, double baselineCos) {}
}
