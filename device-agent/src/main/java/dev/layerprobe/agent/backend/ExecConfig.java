package dev.layerprobe.agent.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.dump.layout.DumpLayouts;
import dev.layerprobe.dump.mapping.MapFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link ExecBackend}'s configuration, from the agent's config file (YAML). Only the board's
 * owner writes it; nothing in it ever comes from a client.
 *
 * <pre>
 * exec:
 *   device: rk3588-evb                  # shown to users (default: the command's file name)
 *   command: /opt/vendor/run_model      # the vendor runtime, run without a shell
 *   args: ["{model}", "{input}"]        # placeholders: {model} {input} {inputs} {dumps} {workdir}
 *   env:                                # added to the agent's environment, placeholders too
 *     RKNN_DUMP_DIR: "{dumps}"
 *   dump_dir: dumps                     # where the runtime leaves its dumps, inside the working folder
 *   layout: rknn-runtime                # a dump layout name, or leave out to detect it
 *   map: names.yaml                     # optional mapping file, relative to this file
 *   timeout_seconds: 120
 *   work_root: /tmp                     # where fresh working folders are made (default: java.io.tmpdir)
 *   keep_workdirs: false                # keep working folders after a run, to debug the runtime
 * </pre>
 *
 * {@code {model}} is the uploaded model in the working folder ({@code model.onnx}), {@code {input}}
 * the first input as {@code .npy}, {@code {inputs}} the folder holding every input as
 * {@code <input name>.npy}, {@code {dumps}} the dump folder. Immutable.
 */
public record ExecConfig(
        String device,
        String command,
        List<String> args,
        Map<String, String> env,
        String dumpDir,
        String layout,
        MapFile map,
        Duration timeout,
        Path workRoot,
        boolean keepWorkdirs) {
    private static final List<String> KEYS = List.of(
            "device",
            "command",
            "args",
            "env",
            "dump_dir",
            "layout",
            "map",
            "timeout_seconds",
            "work_root",
            "keep_workdirs");

    public ExecConfig {
        args = List.copyOf(args);
        env = Map.copyOf(env);
    }

    /**
     * Reads the {@code exec} section of an agent config file.
     *
     * @throws LayerProbeException (BAD_PROFILE) naming the file and the bad key or value
     */
    public static ExecConfig load(Path file) throws LayerProbeException {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw bad(
                    file,
                    "cannot be read: "
                            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        JsonNode x = root == null ? null : root.get("exec");
        if (x == null || !x.isObject()) {
            throw bad(file, "has no 'exec' section with keys " + KEYS);
        }
        for (Iterator<String> it = x.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw bad(file, "has unknown key 'exec." + k + "', expected one of " + KEYS);
            }
        }
        if (!x.hasNonNull("command") || x.get("command").asText().isBlank()) {
            throw bad(file, "names no exec.command");
        }
        String command = x.get("command").asText();
        List<String> args = new ArrayList<>();
        if (x.has("args")) {
            if (!x.get("args").isArray()) {
                throw bad(file, "exec.args must be a list");
            }
            x.get("args").forEach(a -> args.add(a.asText()));
        }
        Map<String, String> env = new LinkedHashMap<>();
        if (x.has("env")) {
            if (!x.get("env").isObject()) {
                throw bad(file, "exec.env must map names to values");
            }
            x.get("env")
                    .properties()
                    .forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        }
        String dumpDir = x.hasNonNull("dump_dir") ? x.get("dump_dir").asText() : "dumps";
        if (Path.of(dumpDir).isAbsolute() || dumpDir.contains("..")) {
            throw bad(file, "exec.dump_dir must be a folder inside the working folder, got '" + dumpDir + "'");
        }
        String layout = x.hasNonNull("layout") ? x.get("layout").asText() : null;
        if (layout != null && !DumpLayouts.names().contains(layout)) {
            throw bad(file, "has exec.layout '" + layout + "', expected one of " + DumpLayouts.names());
        }
        MapFile map = MapFile.NONE;
        if (x.hasNonNull("map")) {
            Path m = file.toAbsolutePath().getParent().resolve(x.get("map").asText());
            try {
                map = MapFile.load(m);
            } catch (IOException e) {
                throw bad(file, "exec.map: " + e.getMessage());
            }
        }
        long seconds =
                x.hasNonNull("timeout_seconds") ? x.get("timeout_seconds").asLong() : 300;
        if (seconds <= 0) {
            throw bad(file, "exec.timeout_seconds must be positive, got " + seconds);
        }
        Path workRoot =
                Path.of(x.hasNonNull("work_root") ? x.get("work_root").asText() : System.getProperty("java.io.tmpdir"));
        if (!Files.isDirectory(workRoot)) {
            throw bad(file, "exec.work_root " + workRoot + " is not a folder");
        }
        String device = x.hasNonNull("device")
                ? x.get("device").asText()
                : Path.of(command).getFileName().toString();
        return new ExecConfig(
                device,
                command,
                args,
                env,
                dumpDir,
                layout,
                map,
                Duration.ofSeconds(seconds),
                workRoot,
                x.path("keep_workdirs").asBoolean(false));
    }

    private static LayerProbeException bad(Path file, String what) {
        return new LayerProbeException(LayerProbeException.Code.BAD_PROFILE, "agent config " + file + " " + what);
    }
}
