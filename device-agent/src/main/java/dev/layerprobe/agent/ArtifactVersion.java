package dev.layerprobe.agent;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The version of a LayerProbe jar, read from the {@code pom.properties} Maven packs into it. When
 * classes run from a build directory (tests, an IDE) there is no such file and the version is
 * {@value #UNKNOWN}. Stateless.
 */
public final class ArtifactVersion {
    /** Reported when the class does not come from a packaged jar. */
    public static final String UNKNOWN = "dev";

    private ArtifactVersion() {}

    /**
     * The version Maven packaged the artifact with, or {@link #UNKNOWN} when run from classes.
     *
     * @param anchor   a class from the artifact, whose class loader holds its jar
     * @param artifact the Maven artifact id, e.g. {@code layerprobe-simulator}
     */
    public static String of(Class<?> anchor, String artifact) {
        String resource = "/META-INF/maven/dev.layerprobe/" + artifact + "/pom.properties";
        try (InputStream in = anchor.getResourceAsStream(resource)) {
            if (in == null) {
                return UNKNOWN;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", UNKNOWN);
        } catch (IOException e) {
            return UNKNOWN;
        }
    }
}
