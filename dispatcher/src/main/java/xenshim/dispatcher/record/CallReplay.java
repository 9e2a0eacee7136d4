package xenshim.dispatcher.record;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.SubOps;
import xenshim.api.xen.XenErrno;
import xenshim.dispatcher.HypercallPage;

/**
 * Plays one recorded call against a page and says how what it did differs from the recording:
 * its result (and a continuation's arguments, or a JVM error), the bytes it wrote to the caller's
 * memory, and the reads the recording could not serve.
 *
 * <p>Writes are compared as the memory they leave: each side's writes applied in order, then byte
 * by byte, so a handler that writes the same bytes with other access sizes does not differ.
 */
public final class CallReplay {

    /** How many bytes of a differing range a report shows before it says "...". */
    private static final int SHOWN = 32;

    private CallReplay() {
    }

    /** What kind of difference. */
    public enum Kind {
        /** The result, the continuation's arguments, or a JVM error differ. */
        RESULT,
        /** The bytes written to the caller's memory differ. */
        MEMORY,
        /** The handler read memory the recording does not have. */
        MISSING_READ
    }

    /** One difference, said in a line. */
    public record Difference(Kind kind, String text) {
    }

    /** A played call: what it returned and how it differs from the recording (empty: not at all). */
    public record Outcome(long result, List<Difference> differences) {
        public Outcome {
            differences = List.copyOf(differences);
        }

        public boolean differs() {
            return !differences.isEmpty();
        }
    }

    /**
     * Plays {@code call} through {@code page} as {@code caller} (which must be the recorded domain,
     * in the replay's registry). Never throws but a handler's JVM error, which is reported as a
     * difference when the recording had none.
     */
    public static Outcome play(HypercallPage page, Domain caller, CallLog.Call call) {
        ReplayContext ctx = new ReplayContext(caller, call);
        long result = 0;
        String error = null;
        try {
            result = page.invoke(ctx, call.nr(), call.arg(0), call.arg(1), call.arg(2), call.arg(3), call.arg(4));
        } catch (Error e) {
            error = e.getClass().getName();
        }
        long[] continuation = error == null ? ctx.continued(result) : null;
        List<Difference> differences = new ArrayList<>();
        result(call, result, continuation, error, differences);
        memory(call.writes(), ctx.memory().writes(), differences);
        for (ReplayMemory.Missing m : ctx.memory().missing()) {
            differences.add(new Difference(Kind.MISSING_READ, "read " + m.length() + " bytes at 0x"
                    + Long.toHexString(m.address()) + " that the recording does not have (the handler got -EFAULT)"));
        }
        return new Outcome(result, differences);
    }

    private static void result(CallLog.Call call, long result, long[] continuation, String error,
                               List<Difference> out) {
        String expected = said(call.result(), call.continued() ? call.continuation() : null, call.error());
        String got = said(result, continuation, error);
        if (!expected.equals(got)) {
            out.add(new Difference(Kind.RESULT, "result: expected " + expected + ", got " + got));
        }
    }

    private static String said(long result, long[] continuation, String error) {
        if (error != null) {
            return "the JVM error " + error;
        }
        if (continuation != null) {
            return "a continuation with " + hexes(continuation);
        }
        return XenErrno.describe(result) + (result > 9 ? " (0x" + Long.toHexString(result) + ")" : "");
    }

    private static String hexes(long[] values) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < values.length; i++) {
            s.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(values[i]));
        }
        return s.append(')').toString();
    }

    /** The memory a list of writes leaves, by address. */
    private static TreeMap<Long, Byte> image(List<CallLog.Access> writes) {
        TreeMap<Long, Byte> image = new TreeMap<>(Long::compareUnsigned);
        for (CallLog.Access w : writes) {
            if (!w.faulted()) {
                for (int i = 0; i < w.length(); i++) {
                    image.put(w.address() + i, w.at(i));
                }
            }
        }
        return image;
    }

    private static void memory(List<CallLog.Access> recorded, List<CallLog.Access> replayed, List<Difference> out) {
        TreeMap<Long, Byte> expected = image(recorded);
        TreeMap<Long, Byte> got = image(replayed);
        TreeSet<Long> differing = new TreeSet<>(Long::compareUnsigned);
        for (Map.Entry<Long, Byte> e : expected.entrySet()) {
            if (!e.getValue().equals(got.get(e.getKey()))) {
                differing.add(e.getKey());
            }
        }
        for (Long address : got.keySet()) {
            if (!expected.containsKey(address)) {
                differing.add(address);
            }
        }
        Long start = null;
        long end = 0;
        for (long address : differing) {
            if (start != null && address == end) {
                end++;
                continue;
            }
            if (start != null) {
                out.add(range(start, end, expected, got));
            }
            start = address;
            end = address + 1;
        }
        if (start != null) {
            out.add(range(start, end, expected, got));
        }
    }

    /** One differing range {@code [start, end)}: both sides' bytes, "--" for a byte a side did not write. */
    private static Difference range(long start, long end, Map<Long, Byte> expected, Map<Long, Byte> got) {
        long length = end - start;
        return new Difference(Kind.MEMORY, "memory written at 0x" + Long.toHexString(start) + " (" + length
                + (length == 1 ? " byte" : " bytes") + "): expected " + bytes(start, end, expected) + ", got "
                + bytes(start, end, got));
    }

    private static String bytes(long start, long end, Map<Long, Byte> image) {
        StringBuilder s = new StringBuilder();
        HexFormat hex = HexFormat.of();
        for (long a = start; a != end && a - start < SHOWN; a++) {
            Byte b = image.get(a);
            s.append(s.isEmpty() ? "" : " ").append(b == null ? "--" : hex.toHexDigits(b));
        }
        if (end - start > SHOWN) {
            s.append(" ...");
        }
        return s.toString();
    }

    /** The call as a report names it: {@code d1 vcpu0 xen_version(XENVER_extraversion, 0x113550, ...)}. */
    public static String describe(CallLog.Call call) {
        return String.format("d%d vcpu%d%s %s(%s, %#x, %#x, %#x, %#x)", call.domid(), call.vcpu(),
                call.abi() == Abi.X86_32 ? " compat" : "", Hypercalls.name(call.nr()),
                SubOps.describe(call.nr(), call.arg(0)), call.arg(1), call.arg(2), call.arg(3), call.arg(4));
    }
}
