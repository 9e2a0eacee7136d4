package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XS_DIRECTORY;
import static xenshim.xenstore.XsWire.XS_GET_PERMS;
import static xenshim.xenstore.XsWire.XS_MKDIR;
import static xenshim.xenstore.XsWire.XS_READ;
import static xenshim.xenstore.XsWire.XS_RM;
import static xenshim.xenstore.XsWire.XS_SET_PERMS;
import static xenshim.xenstore.XsWire.XS_WRITE;

import java.util.ArrayList;
import java.util.List;

/**
 * The node requests of an in-process client, outside a transaction
 * ({@link XsClient}) or in one ({@link XsTransaction}). Each is a request
 * through the same path the wire takes, as dom0; an error reply is thrown
 * as an {@link XsException} naming it. Relative paths are under
 * {@code /local/domain/0}, as for dom0's socket.
 */
public abstract sealed class XsOperations permits XsClient, XsTransaction {

    XsOperations() {
    }

    /** Sends a request in this client's transaction (or none) and returns the reply's payload. */
    abstract byte[] request(int type, byte[] payload);

    /** The value of {@code path}, as bytes. */
    public byte[] readBytes(String path) {
        return request(XS_READ, XsMessage.strings(path));
    }

    /** The value of {@code path}, one char a byte (ISO-8859-1; ASCII reads as itself). */
    public String read(String path) {
        return new String(readBytes(path), XsMessage.BYTES);
    }

    /** Writes {@code value} (one byte a char), making the node and any missing parents. */
    public void write(String path, String value) {
        write(path, value.getBytes(XsMessage.BYTES));
    }

    public void write(String path, byte[] value) {
        byte[] name = XsMessage.strings(path);
        byte[] payload = new byte[name.length + value.length];
        System.arraycopy(name, 0, payload, 0, name.length);
        System.arraycopy(value, 0, payload, name.length, value.length);
        request(XS_WRITE, payload);
    }

    public void mkdir(String path) {
        request(XS_MKDIR, XsMessage.strings(path));
    }

    /** Removes {@code path} and everything below it (a missing node under an existing parent is fine). */
    public void rm(String path) {
        request(XS_RM, XsMessage.strings(path));
    }

    /** The names of the children of {@code path}, in the order they were made. */
    public List<String> directory(String path) {
        return new XsMessage(0, 0, 0, request(XS_DIRECTORY, XsMessage.strings(path))).strings();
    }

    public XsPerms getPerms(String path) {
        return XsPerms.parse(new XsMessage(0, 0, 0, request(XS_GET_PERMS, XsMessage.strings(path))).strings());
    }

    public void setPerms(String path, XsPerms perms) {
        List<String> strings = new ArrayList<>(List.of(path));
        strings.addAll(perms.strings());
        request(XS_SET_PERMS, XsMessage.strings(strings));
    }

    /** Whether {@code path} exists (and may be read). */
    public boolean exists(String path) {
        try {
            readBytes(path);
            return true;
        } catch (XsException e) {
            if (e.error() == XsError.ENOENT) {
                return false;
            }
            throw e;
        }
    }
}
