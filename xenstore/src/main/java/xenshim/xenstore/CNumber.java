package xenshim.xenstore;

/** Numbers as the C library reads them, for the arguments xenstored parses with {@code atoi} and {@code strtol}. */
final class CNumber {

    private CNumber() {
    }

    /**
     * {@code atoi}: optional white space and sign, then the decimal digits
     * that follow; 0 if there are none; an overflow wraps to 32 bits as
     * glibc's {@code (int) strtol} does.
     */
    static int atoi(String text) {
        Sign sign = Sign.of(text);
        int i = sign.digitsAt();
        int n = text.length();
        boolean negative = sign.negative();
        long value = 0;
        boolean overflow = false;
        while (i < n && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
            int digit = text.charAt(i) - '0';
            overflow |= value > (Long.MAX_VALUE - digit) / 10;
            value = overflow ? 0 : value * 10 + digit;
            i++;
        }
        if (overflow) {
            return (int) (negative ? Long.MIN_VALUE : Long.MAX_VALUE);
        }
        return (int) (negative ? -value : value);
    }

    /**
     * {@code strtol(text, &end, 0)} where the whole of {@code text} must be
     * the number ({@code *end == 0}) and {@code text} is not empty.
     *
     * @return the number, or {@code null} if {@code text} is not one
     */
    static Long strtol(String text) {
        Sign sign = Sign.of(text);
        int i = sign.digitsAt();
        int n = text.length();
        boolean negative = sign.negative();
        int radix = 10;
        if (i + 2 < n && text.charAt(i) == '0' && (text.charAt(i + 1) == 'x' || text.charAt(i + 1) == 'X')
                && Character.digit(text.charAt(i + 2), 16) >= 0) {
            radix = 16;
            i += 2;
        } else if (i < n && text.charAt(i) == '0') {
            radix = 8;
        }
        int digits = 0;
        long value = 0;
        for (; i < n; i++, digits++) {
            int digit = text.charAt(i) < 128 ? Character.digit(text.charAt(i), radix) : -1;
            if (digit < 0) {
                return null;
            }
            value = value > (Long.MAX_VALUE - digit) / radix ? Long.MAX_VALUE : value * radix + digit;
        }
        return digits == 0 ? null : negative ? -value : value;
    }

    /** Where the digits start after white space and a sign, and whether the sign was a minus. */
    private record Sign(int digitsAt, boolean negative) {

        static Sign of(String text) {
            int i = 0;
            while (i < text.length() && isSpace(text.charAt(i))) {
                i++;
            }
            if (i < text.length() && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                return new Sign(i + 1, text.charAt(i) == '-');
            }
            return new Sign(i, false);
        }
    }

    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
