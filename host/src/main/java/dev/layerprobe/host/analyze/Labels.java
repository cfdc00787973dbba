package dev.layerprobe.host.analyze;

import dev.layerprobe.host.input.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The class of each input, for the task's accuracy ({@code --labels}): from a CSV of
 * {@code file,label} (the label a class index from 0; a first line whose label is not a number is a
 * header; {@code file} is matched against the input's path as given, then its file name), or from an
 * image folder with one subfolder per class (ImageFolder's layout: the classes are the subfolders in
 * sorted order, numbered from 0, and an input's class is the subfolder it is in). Stateless.
 */
final class Labels {
    private Labels() {}

    /**
     * The label of every input, in input order; null where an input has none.
     *
     * @throws InputException when the file cannot be read or a line is not {@code file,integer}
     */
    static List<Integer> of(Path labels, List<Path> inputs) throws InputException {
        List<Integer> out = new ArrayList<>();
        if (Files.isDirectory(labels)) {
            List<Path> classes;
            try (Stream<Path> s = Files.list(labels)) {
                classes = s.filter(Files::isDirectory).sorted().toList();
            } catch (IOException e) {
                throw new InputException("--labels " + labels + ": cannot list it: " + e.getMessage());
            }
            if (classes.isEmpty()) {
                throw new InputException("--labels " + labels + ": the folder has no class subfolders");
            }
            for (Path p : inputs) {
                Path parent = p.toAbsolutePath().normalize().getParent();
                int c = -1;
                for (int i = 0; i < classes.size() && c < 0; i++) {
                    if (classes.get(i).toAbsolutePath().normalize().equals(parent)) {
                        c = i;
                    }
                }
                out.add(c < 0 ? null : c);
            }
            return out;
        }
        Map<String, Integer> byFile = csv(labels);
        for (Path p : inputs) {
            Integer l = byFile.get(p.toString());
            out.add(l != null ? l : byFile.get(p.getFileName().toString()));
        }
        return out;
    }

    private static Map<String, Integer> csv(Path labels) throws InputException {
        List<String> lines;
        try {
            lines = Files.readAllLines(labels);
        } catch (IOException e) {
            throw new InputException("--labels " + labels + ": cannot read it: " + e.getMessage());
        }
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            int comma = line.lastIndexOf(',');
            String label = comma < 0 ? "" : line.substring(comma + 1).strip();
            try {
                int c = Integer.parseInt(label);
                if (c < 0) {
                    throw new NumberFormatException();
                }
                m.put(unquote(line.substring(0, comma).strip()), c);
            } catch (NumberFormatException e) {
                if (i == 0 && comma >= 0) {
                    continue; // a header
                }
                throw new InputException("--labels " + labels + " line " + (i + 1) + ": expected file,label with the"
                        + " label a class index from 0, got '" + line + "'");
            }
        }
        return m;
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")
                ? s.substring(1, s.length() - 1).replace("\"\"", "\"")
                : s;
    }
}
