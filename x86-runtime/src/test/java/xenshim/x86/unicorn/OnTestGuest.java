package xenshim.x86.unicorn;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A fresh {@link TestGuest} engine for every test, closed after it; each test
 * is skipped, saying what to install, where the Unicorn library is missing.
 */
abstract class OnTestGuest {

    TestGuest guest;
    UnicornCpu cpu;

    @BeforeEach
    void open() {
        TestGuest.assumeUnicorn();
        guest = new TestGuest();
        cpu = guest.cpu;
    }

    @AfterEach
    void close() {
        if (guest != null) {
            guest.close();
        }
    }
}
