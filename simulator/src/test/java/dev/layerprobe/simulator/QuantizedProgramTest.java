package dev.layerprobe.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.quant.Calibration;
import dev.layerprobe.simulator.quant.QdqWriter;
import dev.layerprobe.simulator.quant.QuantConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Float and quantized programs of the shared models: compile, calibrate, write QDQ, run. */
class QuantizedProgramTest {

    static Map<String, Tensor> randomInput(NpuProgram p, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] shape = p.inputs().get(0).shape();
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return Map.of(p.inputs().get(0).name(), Tensor.ofFloats(shape, x));
    }

    static double cos(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    @Test
    void espcnQuantizedFollowsFloat() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        NpuProgram fp = Simulator.compile(model, CompileOptions.DEFAULT);
        List<Map<String, Tensor>> calib = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calib.add(randomInput(fp, i));
        }
        Calibration c = Calibration.collect(fp, calib, n -> {});
        ModelProto qdq = QdqWriter.write(fp, c, QuantConfig.INT8);
        NpuProgram qp = Simulator.compile(qdq, "espcn.qdq", CompileOptions.of(DeviceProfile.DEFAULT));
        assertTrue(qp.isQuantized());
        assertEquals(fp.layers().size(), qp.layers().size(), "same layers in float and quantized programs");
        Map<String, Tensor> in = randomInput(fp, 99);
        float[] f = fp.run(in, LayerObserver.NONE).get("image").real().floats();
        float[] q = qp.run(in, LayerObserver.NONE).get("image").real().floats();
        double cos = cos(f, q);
        assertTrue(cos > 0.99, "quantized output cos " + cos);
    }
}
