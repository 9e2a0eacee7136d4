package xenshim.api.abi;

import java.nio.charset.StandardCharsets;

/** C {@code char[]} buffers as Xen fills them. */
public final class CString {

    private CString() {
    }

    /**
     * {@code text} as a zeroed {@code char[size]} with the text copied in and
     * cut to {@code size - 1} bytes, so it always ends in NUL (Xen's
     * {@code safe_strcpy} into a {@code memset} buffer).
     */
    public static byte[] encode(String text, int size) {
        byte[] buffer = new byte[size];
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(bytes, 0, buffer, 0, Math.min(bytes.length, size - 1));
        return buffer;
    }
}
