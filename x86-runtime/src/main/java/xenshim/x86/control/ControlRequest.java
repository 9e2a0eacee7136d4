package xenshim.x86.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One request on the control channel: a command and its arguments, each {@code KEY=VALUE}, sent as one
 * line of UTF-8 with the words separated by tabs (see {@link ControlServer} for the protocol). A key may
 * repeat ({@code prefer}); a flag is a key with an empty value.
 *
 * @param command the command word: {@code swap}, {@code unswap}, {@code shims}, {@code stats}
 * @param args    its arguments, in order
 */
public record ControlRequest(String command, List<Arg> args) {

    private static final Pattern WORD = Pattern.compile("[a-z][a-z0-9-]*");

    /** One argument. */
    public record Arg(String key, String value) {
        public Arg {
            Objects.requireNonNull(key);
            Objects.requireNonNull(value);
        }
    }

    public ControlRequest {
        if (!WORD.matcher(command).matches()) {
            throw new BadRequest("bad command '" + printable(command) + "'");
        }
        args = List.copyOf(args);
        for (Arg arg : args) {
            if (!WORD.matcher(arg.key()).matches()) {
                throw new BadRequest("bad argument name '" + printable(arg.key()) + "'");
            }
            for (char c : arg.value().toCharArray()) {
                if (Character.isISOControl(c)) {
                    throw new BadRequest(arg.key() + ": a control character (such as a tab or newline) cannot be sent");
                }
            }
        }
    }

    /** A request with no argument. */
    public static ControlRequest of(String command) {
        return new ControlRequest(command, List.of());
    }

    /** This request with {@code key=value} added. */
    public ControlRequest with(String key, String value) {
        List<Arg> more = new ArrayList<>(args);
        more.add(new Arg(key, value));
        return new ControlRequest(command, more);
    }

    /** The values of {@code key}, in order. */
    public List<String> values(String key) {
        return args.stream().filter(a -> a.key().equals(key)).map(Arg::value).toList();
    }

    /** The value of {@code key}, or null if it is not given; given twice is a bad request. */
    public String value(String key) {
        List<String> values = values(key);
        if (values.size() > 1) {
            throw new BadRequest(key + " given " + values.size() + " times");
        }
        return values.isEmpty() ? null : values.getFirst();
    }

    /** Whether {@code key} is given. */
    public boolean flag(String key) {
        return value(key) != null;
    }

    /** The keys other than {@code known}, if a request has any: a newer client's, or a mistake. */
    public List<String> unknownKeys(List<String> known) {
        return args.stream().map(Arg::key).filter(k -> !known.contains(k)).distinct().toList();
    }

    /** The line, without its newline. */
    public String encode() {
        StringBuilder line = new StringBuilder(command);
        for (Arg arg : args) {
            line.append('\t').append(arg.key()).append('=').append(arg.value());
        }
        return line.toString();
    }

    /**
     * Parses one line (without its newline; a trailing carriage return is allowed).
     *
     * @throws BadRequest saying what is wrong
     */
    public static ControlRequest parse(String line) {
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        String[] words = line.split("\t", -1);
        List<Arg> args = new ArrayList<>();
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq <= 0) {
                throw new BadRequest("bad argument '" + printable(words[i]) + "'; arguments are KEY=VALUE");
            }
            args.add(new Arg(words[i].substring(0, eq), words[i].substring(eq + 1)));
        }
        return new ControlRequest(words[0], args);
    }

    /** At most 60 characters of {@code text}, control characters shown as {@code ?}: safe to echo in an answer. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(60).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return text.length() > 60 ? out + "..." : out.toString();
    }

    /** A request that is not one: answered with an error, never acted on. */
    public static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public BadRequest(String message) {
            super(message);
        }
    }
}
