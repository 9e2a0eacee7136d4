package xenshim.xenstore;

/** How the dump writes a value: printable ASCII as is, the rest escaped. */
final class DumpText {

    private DumpText() {
    }

    /**
     * Printable ASCII stays; a backslash and a double quote get a backslash
     * before them; tab, newline and carriage return are {@code \t},
     * {@code \n}, {@code \r}; every other byte is {@code \ooo} (three octal
     * digits), as {@code xenstore-ls} writes it.
     */
    static String escape(byte[] value) {
        StringBuilder text = new StringBuilder(value.length);
        for (byte b : value) {
            int c = b & 0xff;
            switch (c) {
                case '\\' -> text.append("\\\\");
                case '"' -> text.append("\\\"");
                case '\t' -> text.append("\\t");
                case '\n' -> text.append("\\n");
                case '\r' -> text.append("\\r");
                default -> {
                    if (c >= ' ' && c <= '~') {
                        text.append((char) c);
                    } else {
                        text.append('\\').append((char) ('0' + (c >> 6))).append((char) ('0' + ((c >> 3) & 7)))
                                .append((char) ('0' + (c & 7)));
                    }
                }
            }
        }
        return text.toString();
    }
}
