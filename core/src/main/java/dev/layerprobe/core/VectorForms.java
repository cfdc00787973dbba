package dev.layerprobe.core;

import java.lang.reflect.Constructor;
import java.util.Optional;

/**
 * Loads the Vector API form of a kernel: a subclass compiled from a module's {@code src/main/vector}
 * (it needs {@code --add-modules jdk.incubator.vector}), which nothing refers to by name so that
 * the rest of the code compiles and runs without the module. Callers keep a scalar form that
 * computes the same values and use it when this returns empty. Stateless.
 */
public final class VectorForms {
    private VectorForms() {}

    /**
     * An instance of {@code className} (a subclass of {@code type} with a constructor without
     * arguments, of any access), or empty when the JVM did not resolve {@code jdk.incubator.vector}
     * or the build has no such class.
     */
    public static <T> Optional<T> load(Class<T> type, String className) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Optional.empty();
        }
        try {
            Constructor<? extends T> c =
                    Class.forName(className).asSubclass(type).getDeclaredConstructor();
            c.setAccessible(true); // the vector forms are package-private, like their scalar siblings
            return Optional.of(c.newInstance());
        } catch (ReflectiveOperationException | LinkageError | SecurityException e) {
            return Optional.empty(); // a build without the vector classes: the scalar form
        }
    }
}
