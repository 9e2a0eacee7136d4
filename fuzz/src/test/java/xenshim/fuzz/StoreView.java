package xenshim.fuzz;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import xenshim.xenstore.Xenstored;

/**
 * The store as {@code xenstore-ls -f -p} shows it ({@link Xenstored#dump}): one node a line, path, value,
 * permissions with the owner first. What a guest's requests may and may not have changed is read from
 * two such views.
 */
record StoreView(List<String> lines) {

    static StoreView of(Xenstored xs) {
        StringWriter out = new StringWriter();
        try {
            xs.dump(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new StoreView(out.toString().lines().toList());
    }

    /** The lines of nodes outside {@code home} and its subtree. */
    List<String> outside(String home) {
        return lines.stream().filter(line -> !line.startsWith(home + " ") && !line.startsWith(home + "/")).toList();
    }

    /** The lines of nodes whose owner (the first permission) is {@code domid}. */
    List<String> ownedBy(int domid) {
        return lines.stream().filter(line -> owner(line) == domid).toList();
    }

    private static int owner(String line) {
        int open = line.lastIndexOf("  (");
        int end = line.indexOf(',', open);
        String first = line.substring(open + 4, end < 0 ? line.length() - 1 : end);
        return Integer.parseInt(first);
    }

    /** The value of a node line, as dumped (escaped). */
    static String value(String line) {
        int start = line.indexOf(" = \"") + 4;
        return line.substring(start, line.lastIndexOf("\"  ("));
    }

    /**
     * How many bytes the value of a node line has: the dump escapes {@code \ " \t \n \r} with a backslash
     * and any other unprintable byte as {@code \ooo}, each one byte of the value.
     */
    static int valueBytes(String line) {
        String value = value(line);
        int bytes = 0;
        for (int i = 0; i < value.length(); i++, bytes++) {
            if (value.charAt(i) == '\\') {
                i += Character.isDigit(value.charAt(i + 1)) ? 3 : 1;
            }
        }
        return bytes;
    }
}
