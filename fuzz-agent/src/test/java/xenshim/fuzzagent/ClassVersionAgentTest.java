package xenshim.fuzzagent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.reflect.Constructor;
import org.junit.jupiter.api.Test;

/** The version rewrite, on this module's own class file (compiled for Java 25, like xenshim's). */
class ClassVersionAgentTest {

    private static byte[] classFile() throws IOException {
        try (InputStream in = ClassVersionAgent.class.getResourceAsStream("ClassVersionAgent.class")) {
            return in.readAllBytes();
        }
    }

    private static ClassFileTransformer agent(int version) throws ReflectiveOperationException {
        Constructor<ClassVersionAgent> constructor = ClassVersionAgent.class.getDeclaredConstructor(int.class);
        constructor.setAccessible(true);
        return constructor.newInstance(version);
    }

    private static int major(byte[] bytes) {
        return (bytes[6] & 0xFF) << 8 | bytes[7] & 0xFF;
    }

    @Test
    void xenshimsClassesAreLoweredToTheVersionAndNothingElseChanges() throws Exception {
        byte[] original = classFile();
        assertThat(major(original)).as("compiled for Java 25").isEqualTo(69);
        byte[] lowered = agent(67).transform(null, null, "xenshim/fuzzagent/ClassVersionAgent", null, null, original);
        assertThat(major(lowered)).isEqualTo(67);
        lowered[6] = original[6];
        lowered[7] = original[7];
        assertThat(lowered).isEqualTo(original);
        assertThat(major(original)).as("the input is not changed").isEqualTo(69);
    }

    @Test
    void otherClassesOldOnesAndPreviewOnesAreLeftAlone() throws Exception {
        byte[] bytes = classFile();
        ClassFileTransformer agent = agent(67);
        assertThat(agent.transform(null, null, "java/lang/String", null, null, bytes)).isNull();
        assertThat(agent(69).transform(null, null, "xenshim/X", null, null, bytes)).isNull();
        byte[] preview = bytes.clone();
        preview[4] = (byte) 0xFF;
        preview[5] = (byte) 0xFF;
        assertThat(agent.transform(null, null, "xenshim/X", null, null, preview)).isNull();
        assertThat(agent.transform(null, null, "xenshim/X", null, null, new byte[] {1, 2, 3})).isNull();
    }
}
