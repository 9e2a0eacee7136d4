package xenshim.x86.cli;

import java.io.IOException;
import java.io.InputStream;
import xenshim.x86.dom0.ConsoleBackend;

/** {@code --console-input ring}: a daemon thread types what it reads from stdin into a guest's console ring. */
final class ConsoleInput {

    private ConsoleInput() {
    }

    static void start(InputStream in, ConsoleBackend console) {
        Thread.ofPlatform().daemon().name("console-input").start(() -> {
            byte[] buffer = new byte[1024];
            try {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    console.type(buffer, 0, n);
                }
            } catch (IOException e) {
                // stdin closed or broken: the guest just gets no more input
            }
        });
    }
}
