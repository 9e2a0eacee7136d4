package xenshim.fuzzagent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * Lets Jazzer instrument xenshim's classes. Jazzer 0.24 rewrites classes for coverage with a bundled ASM
 * that refuses class files newer than Java 23 (major version 67); xenshim is compiled for Java 25 (69), so
 * without this every class of the fuzz targets would be skipped and the fuzzer would run blind. This agent,
 * loaded with {@code -javaagent} before Jazzer attaches its own, rewrites the version number of each
 * {@code xenshim/} class as it is loaded or retransformed, so that Jazzer, next in the chain, reads it.
 *
 * <p>Only the number changes: Java 24 and 25 added no class file structure (no attribute or constant pool
 * entry) that javac emits for xenshim's code, and a preview class (minor version 0xFFFF) is left alone.
 * The agent argument is the version to write (default 67); the test JVM of the fuzz module only.
 */
public final class ClassVersionAgent implements ClassFileTransformer {

    private static final int MAGIC = 0xCAFEBABE;
    private static final int DEFAULT_VERSION = 67;
    private static final String PREFIX = "xenshim/";

    private final int version;

    private ClassVersionAgent(int version) {
        this.version = version;
    }

    public static void premain(String args, Instrumentation instrumentation) {
        int version = args == null || args.isBlank() ? DEFAULT_VERSION : Integer.parseInt(args.strip());
        instrumentation.addTransformer(new ClassVersionAgent(version), true);
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
                            ProtectionDomain domain, byte[] bytes) {
        if (className == null || !className.startsWith(PREFIX) || bytes.length < 8 || u4(bytes, 0) != MAGIC
                || u2(bytes, 4) != 0 || u2(bytes, 6) <= version) {
            return null;
        }
        byte[] lowered = bytes.clone();
        lowered[6] = (byte) (version >>> 8);
        lowered[7] = (byte) version;
        return lowered;
    }

    private static int u2(byte[] bytes, int at) {
        return (bytes[at] & 0xFF) << 8 | bytes[at + 1] & 0xFF;
    }

    private static int u4(byte[] bytes, int at) {
        return u2(bytes, at) << 16 | u2(bytes, at + 2);
    }
}
