package dev.layerprobe.dump.layout;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.dump.npy.Npy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The RKNN runtime's per-layer dumps ({@code RKNN_DUMP_DIR}): one {@code .npy} per tensor named
 * {@code NNN_<OpType>_<tensor>_shape_<d0>_<d1>_..._<dtype>.npy}, e.g.
 * {@code 001_ConvClip_317_shape_1_32_112_112_float.npy}, where {@code NNN} is the operator's
 * position in execution order, {@code OpType} RKNN's (fused) op name without underscores, and the
 * tensor name has every character outside {@code [A-Za-z0-9_.]} replaced by {@code _} (an
 * assumption: the runtime writes names into file names as they are, which only works for names
 * without path separators). The runtime also dumps each operator's inputs under the operator's
 * number; a tensor is therefore taken as the layer of the first operator that dumps it (its
 * producer) and later files of the same tensor are skipped. {@code float} files read as float32;
 * integer files ({@code int8}, {@code uint8}, {@code int16}) as codes whose scale and zero point
 * come from the {@link FixedPointOptions}, as the file carries none.
 */
public final class RknnRuntimeLayout implements DumpLayout {
    public static final String NAME = "rknn-runtime";
    static final Pattern FILE =
            Pattern.compile("(\\d+)_([A-Za-z0-9]+)_(.+)_shape_(\\d+(?:_\\d+)*)_([A-Za-z0-9]+)\\.npy");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean detect(Path dir) throws IOException {
        return Folders.fileNames(dir).stream().anyMatch(f -> FILE.matcher(f).matches());
    }

    @Override
    public LayerDump open(Path dir, FixedPointOptions options) throws IOException {
        List<String> files = new ArrayList<>(Folders.fileNames(dir).stream()
                .filter(f -> FILE.matcher(f).matches())
                .toList());
        if (files.isEmpty()) {
            throw new DumpFormatException(
                    dir + " holds no RKNN runtime dump (NNN_<op>_<tensor>_shape_<dims>_<dtype>.npy)");
        }
        // Zero-padded numbers sort in execution order; within one operator the output and its inputs
        // sort by name, and inputs were dumped by an earlier operator already.
        files.sort((a, b) -> {
            int c = Integer.compare(number(a), number(b));
            return c != 0 ? c : a.compareTo(b);
        });
        Set<String> seen = new HashSet<>();
        List<DumpedLayer> layers = new ArrayList<>();
        for (String f : files) {
            Matcher m = FILE.matcher(f);
            m.matches();
            String tensor = m.group(3);
            if (!seen.add(tensor)) {
                continue;
            }
            String[] dims = m.group(4).split("_", -1);
            int[] shape = new int[dims.length];
            for (int i = 0; i < dims.length; i++) {
                shape[i] = Integer.parseInt(dims[i]);
            }
            layers.add(new DumpedLayer(layers.size(), tensor, m.group(2), shape, false, f));
        }
        return new SimpleDump(NAME, dir, layers, (layer, file) -> readNpy(file, layer, options));
    }

    private static int number(String file) {
        Matcher m = FILE.matcher(file);
        return m.matches() ? Integer.parseInt(m.group(1)) : Integer.MAX_VALUE;
    }

    static LayerValue readNpy(Path file, DumpedLayer layer, FixedPointOptions options) throws IOException {
        Tensor t = Npy.read(file);
        if (t.isFloating()) {
            return LayerValue.of(t.toFloat());
        }
        DType type = t.dtype();
        if (type != DType.INT8 && type != DType.UINT8 && type != DType.INT16) {
            throw new DumpFormatException(
                    file + " holds " + type + ", expected float32 or codes in one of [INT8, UINT8, INT16]");
        }
        long[] v = t.longs();
        int[] codes = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            codes[i] = (int) v[i];
        }
        QuantParams q = QuantParams.perTensor(type, options.scaleOf(layer.name()), options.zeroPointOf(layer.name()));
        return LayerValue.of(new QTensor(t.shape(), codes, q));
    }
}
