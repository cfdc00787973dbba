package dev.layerprobe.host.input;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Loads one model input from a file, choosing the reader by extension:
 * <ul>
 *   <li>{@code .npy}: taken as is; its shape must equal the model input's (a model dimension
 *       {@code <= 0} is dynamic and matches anything);</li>
 *   <li>{@code .pb}: an ONNX {@code TensorProto}, as in ONNX test data sets; same shape rule;</li>
 *   <li>{@code .png .jpg .jpeg .bmp .gif}: decoded and preprocessed by {@link ImageLoader} to the
 *       model's {@code [1, 3, H, W]}.</li>
 * </ul>
 * Errors are one line naming the file and, for shapes, both shapes. Stateless and thread-safe.
 */
public final class InputLoader {
    private static final List<String> IMAGE_EXTENSIONS = List.of("png", "jpg", "jpeg", "bmp", "gif");

    private InputLoader() {}

    /**
     * The input files of a folder, sorted by name: every file {@link #load} reads ({@code .npy},
     * {@code .pb} and images); other files are ignored.
     *
     * @param role what the folder is for, in messages ("calibration", "input")
     * @throws InputException when the folder is missing or holds no such file
     */
    public static List<Path> filesIn(Path dir, String role) throws InputException {
        if (!Files.isDirectory(dir)) {
            throw new InputException(role + " folder not found: " + dir);
        }
        List<Path> files;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> Files.isRegularFile(p) && isInputFile(p))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new InputException("cannot list " + role + " folder " + dir + ": " + e.getMessage());
        }
        if (files.isEmpty()) {
            throw new InputException(role + " folder " + dir + " has no images (" + String.join(", ", IMAGE_EXTENSIONS)
                    + "), .npy or .pb files");
        }
        return files;
    }

    /**
     * The inputs as given, each folder replaced by {@link #filesIn its input files}; a folder with
     * no input files of its own but subfolders that have some (one subfolder per class, as
     * ImageFolder lays out a data set) by the files of each subfolder, subfolders in sorted order.
     */
    public static List<Path> expandFolders(List<Path> inputs) throws InputException {
        List<Path> out = new java.util.ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                List<Path> classes = classFolders(p);
                if (classes.isEmpty()) {
                    out.addAll(filesIn(p, "input"));
                } else {
                    for (Path c : classes) {
                        out.addAll(filesIn(c, "input"));
                    }
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    /** The subfolders holding input files of a folder that has none itself, sorted; empty otherwise. */
    private static List<Path> classFolders(Path dir) throws InputException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            List<Path> all = s.sorted().toList();
            if (all.stream().anyMatch(p -> Files.isRegularFile(p) && isInputFile(p))) {
                return List.of();
            }
            List<Path> classes = new java.util.ArrayList<>();
            for (Path c : all) {
                if (Files.isDirectory(c)) {
                    try (java.util.stream.Stream<Path> f = Files.list(c)) {
                        if (f.anyMatch(q -> Files.isRegularFile(q) && isInputFile(q))) {
                            classes.add(c);
                        }
                    }
                }
            }
            return classes;
        } catch (IOException e) {
            throw new InputException("cannot list input folder " + dir + ": " + e.getMessage());
        }
    }

    private static boolean isInputFile(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        String ext = dot < 0 ? "" : n.substring(dot + 1);
        return ext.equals("npy") || ext.equals("pb") || IMAGE_EXTENSIONS.contains(ext);
    }

    /**
     * Loads one input file as the model's input tensor: an image preprocessed by {@code spec}, or a tensor file.
     *
     * @param modelShape the model input's shape (NCHW for images); {@code <= 0} for dynamic dims
     * @param spec image preprocessing; ignored for tensor files
     */
    public static Tensor load(Path file, int[] modelShape, InputSpec spec) throws InputException {
        if (!Files.exists(file)) {
            throw new InputException("input file not found: " + file);
        }
        if (!Files.isReadable(file) || Files.isDirectory(file)) {
            throw new InputException("input file is not a readable file: " + file);
        }
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        if (ext.equals("npy")) {
            return checkShape(file, readNpy(file), modelShape);
        }
        if (ext.equals("pb")) {
            return checkShape(file, readPb(file), modelShape);
        }
        if (IMAGE_EXTENSIONS.contains(ext)) {
            if (modelShape.length != 4 || modelShape[0] > 1 || (modelShape[1] > 0 && modelShape[1] != 3)) {
                throw new InputException("image " + file + " gives a [1, 3, H, W] input, the model input has shape "
                        + Arrays.toString(modelShape));
            }
            return ImageLoader.load(file, modelShape[2], modelShape[3], spec);
        }
        throw new InputException("unsupported input file type '" + (ext.isEmpty() ? name : "." + ext) + "' for " + file
                + ", expected one of [.npy, .pb, .png, .jpg, .jpeg, .bmp, .gif]");
    }

    private static Tensor readNpy(Path file) throws InputException {
        try {
            return Npy.read(file);
        } catch (NoSuchFileException e) {
            throw new InputException("input file not found: " + file, e);
        } catch (IOException | IllegalArgumentException e) {
            String m = e.getMessage();
            throw new InputException(
                    m != null && m.contains(file.toString()) ? m : "cannot read " + file + ": " + m, e);
        }
    }

    private static Tensor readPb(Path file) throws InputException {
        try {
            return TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(file)), file.getParent());
        } catch (IOException | IllegalArgumentException e) {
            throw new InputException("cannot read " + file + " as an ONNX TensorProto: " + e.getMessage(), e);
        }
    }

    private static Tensor checkShape(Path file, Tensor t, int[] modelShape) throws InputException {
        int[] s = t.shape();
        boolean ok = s.length == modelShape.length;
        for (int i = 0; ok && i < s.length; i++) {
            ok = modelShape[i] <= 0 || modelShape[i] == s[i];
        }
        if (!ok) {
            throw new InputException(file + " has shape " + Arrays.toString(s) + ", the model input has shape "
                    + Arrays.toString(modelShape));
        }
        return t;
    }
}
