package dev.layerprobe.dump.npy;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The numpy {@code .npy} format (versions 1.0, 2.0 and 3.0 read; 1.0 written, 2.0 when the header
 * needs it): a magic string, a Python-literal header dict, then the data in C order. Written files
 * are byte-for-byte what {@code numpy.save} writes for the same array (including numpy's spare
 * header space for growing the first axis), so they load with {@code numpy.load} and diff cleanly.
 *
 * <p>Types: {@code <f4 <f8 |i1 |u1 <i2 <u2 <i4 <i8 <f2 |b1}. Reading turns floating types into a
 * FLOAT32 {@link Tensor} and integer types into a tensor of that type; Fortran-order and big-endian
 * files are rejected with a message naming the file. Stateless and thread-safe.
 */
public final class Npy {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    /** numpy pads the header so the first axis can grow to this many digits in place. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** What a .npy header says: element type, shape, and where the data starts. */
    public record Header(DType dtype, int[] shape, long dataOffset) {
        /** Number of elements. */
        public long size() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** The numpy type string of a type, e.g. {@code <f4} for FLOAT32, {@code |i1} for INT8. */
    public static String descr(DType t) {
        return switch (t) {
            case FLOAT32 -> "<f4";
            case FLOAT16 -> "<f2";
            case DOUBLE -> "<f8";
            case INT8 -> "|i1";
            case UINT8 -> "|u1";
            case INT16 -> "<i2";
            case UINT16 -> "<u2";
            case INT32 -> "<i4";
            case UINT32 -> "<u4";
            case INT64 -> "<i8";
            case UINT64 -> "<u8";
            case BOOL -> "|b1";
        };
    }

    /**
     * The type for a numpy type string; {@code '='} and {@code '|'} byte orders are accepted as
     * little-endian, since .npy files are written on little-endian machines in practice.
     *
     * @throws IllegalArgumentException for big-endian or unknown strings, listing the known ones
     */
    public static DType dtypeOf(String descr) {
        String d = descr.length() == 3 && (descr.charAt(0) == '=' || descr.charAt(0) == '|')
                ? "<" + descr.substring(1)
                : descr;
        for (DType t : DType.values()) {
            String known = descr(t);
            if (known.equals(d) || ("<" + known.substring(1)).equals(d)) {
                return t;
            }
        }
        List<String> names = new ArrayList<>();
        for (DType t : DType.values()) {
            names.add(descr(t));
        }
        throw new IllegalArgumentException("unsupported npy dtype '" + descr + "', expected one of " + names);
    }

    /** The complete header (magic, version, length, padded dict) numpy writes for this array. */
    public static byte[] header(DType dtype, int[] shape) {
        StringBuilder dict = new StringBuilder();
        dict.append("{'descr': '").append(descr(dtype)).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            dict.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        dict.append(shape.length == 1 ? ",), }" : "), }");
        if (shape.length > 0) {
            dict.append(" "
                    .repeat(GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length()));
        }
        byte[] text = dict.toString().getBytes(StandardCharsets.US_ASCII);
        int version = text.length + 1 + 10 + ALIGN > 0xFFFF ? 2 : 1;
        int prefix = MAGIC.length + 2 + (version == 1 ? 2 : 4);
        int total = prefix + text.length + 1;
        int padded = (total + ALIGN - 1) / ALIGN * ALIGN;
        int headerLen = padded - prefix;
        ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) headerLen);
        } else {
            b.putInt(headerLen);
        }
        b.put(text);
        while (b.position() < padded - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        return b.array();
    }

    /** Reads only the header of a file. */
    public static Header readHeader(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readHeader(in, file.toString());
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "npy file not found");
        }
    }

    static Header readHeader(InputStream in, String what) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !Arrays.equals(Arrays.copyOf(pre, 6), MAGIC)) {
            throw new IOException(what + " is not a .npy file (bad magic)");
        }
        int major = pre[6] & 0xFF;
        int len;
        int prefix;
        if (major == 1) {
            byte[] l = in.readNBytes(2);
            len = (l[0] & 0xFF) | (l[1] & 0xFF) << 8;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            byte[] l = in.readNBytes(4);
            len = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN).getInt();
            prefix = 12;
        } else {
            throw new IOException(what + ": unsupported .npy version " + major + "." + (pre[7] & 0xFF)
                    + " (expected 1.0, 2.0 or 3.0)");
        }
        byte[] text = in.readNBytes(len);
        if (text.length != len) {
            throw new IOException(what + ": truncated .npy header");
        }
        String dict = new String(text, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(dict);
        Matcher f = FORTRAN.matcher(dict);
        Matcher s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IOException(what + ": malformed .npy header " + dict.trim());
        }
        if (f.group(1).equals("True")) {
            throw new IOException(what + ": Fortran-order .npy files are not supported (save with C order)");
        }
        DType t;
        try {
            t = dtypeOf(d.group(1));
        } catch (IllegalArgumentException e) {
            throw new IOException(what + ": " + e.getMessage(), e);
        }
        List<Integer> dims = new ArrayList<>();
        for (String part : s.group(1).split(",", -1)) {
            String p = part.trim().toUpperCase(Locale.ROOT).replace("L", "");
            if (!p.isEmpty()) {
                dims.add(Integer.parseInt(p));
            }
        }
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        return new Header(t, shape, prefix + (long) len);
    }

    /**
     * Reads a whole file: floating data as a FLOAT32 tensor, integers as a tensor of their type.
     *
     * @throws IOException naming the file when it is missing, truncated or not a supported .npy
     */
    public static Tensor read(Path file) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "npy file not found");
        }
        Header h = readHeader(new java.io.ByteArrayInputStream(all), file.toString());
        long need = h.size() * h.dtype().bytes();
        long have = all.length - h.dataOffset();
        if (have < need) {
            throw new IOException(file + ": truncated .npy data, " + have + " bytes for a " + Arrays.toString(h.shape())
                    + " " + descr(h.dtype()) + " array that needs " + need);
        }
        return TensorBytes.decode(h.dtype(), h.shape(), ByteBuffer.wrap(all, (int) h.dataOffset(), (int) need));
    }

    /** Writes a float32 array. */
    public static void write(Path file, int[] shape, float[] data) throws IOException {
        try (NpyWriter w = NpyWriter.open(file, DType.FLOAT32, shape)) {
            w.write(TensorBytes.encodeFloats(data, 0, data.length));
        }
    }

    /** Writes integer codes as {@code type} (INT8, UINT8, INT16, INT32); codes must fit the type. */
    public static void write(Path file, DType type, int[] shape, int[] codes) throws IOException {
        try (NpyWriter w = NpyWriter.open(file, type, shape)) {
            w.write(TensorBytes.encodeCodes(type, codes, 0, codes.length));
        }
    }

    /** Writes a tensor in its own type (FLOAT32 for every floating tensor except FLOAT16/DOUBLE). */
    public static void write(Path file, Tensor t) throws IOException {
        DType type = t.dtype();
        try (NpyWriter w = NpyWriter.open(file, type, t.shape())) {
            w.write(TensorBytes.encode(t, type));
        }
    }
}
