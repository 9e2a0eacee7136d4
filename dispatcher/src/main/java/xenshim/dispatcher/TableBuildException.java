package xenshim.dispatcher;

/**
 * A table could not be built: two providers for one slot, a slot outside
 * 0..127, a handler Guice could not construct, a broken plugin. The message
 * names every provider, module or jar involved. Nothing was installed.
 */
public class TableBuildException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TableBuildException(String message) {
        super(message);
    }

    public TableBuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
