package xenshim.api.xen;

/** {@code console_io} commands, from {@code xen/xen.h}. */
public final class XenConsole {

    public static final int CONSOLEIO_write = 0;
    public static final int CONSOLEIO_read = 1;

    private XenConsole() {
    }
}
