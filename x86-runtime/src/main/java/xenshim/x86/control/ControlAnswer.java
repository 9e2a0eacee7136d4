package xenshim.x86.control;

import java.util.ArrayList;
import java.util.List;

/**
 * The answer to a {@link ControlRequest}: success with the lines to show, or failure with the reason.
 * On the wire, the first line is {@code ok} or {@code error: REASON}, and the rest follow until the
 * server closes the connection.
 *
 * @param ok    whether the request was done
 * @param lines what to show (on success) or the reason (on failure, first line first)
 */
public record ControlAnswer(boolean ok, List<String> lines) {

    private static final String OK = "ok";
    private static final String ERROR = "error: ";

    public ControlAnswer {
        lines = List.copyOf(lines);
    }

    public static ControlAnswer ok(List<String> lines) {
        return new ControlAnswer(true, lines);
    }

    /** A failure; a message of several lines keeps them. */
    public static ControlAnswer error(String message) {
        List<String> lines = List.of(String.valueOf(message).split("\\R"));
        return new ControlAnswer(false, lines.isEmpty() ? List.of("failed") : lines);
    }

    /** The answer as sent: its lines, each ended by a newline. */
    public String encode() {
        StringBuilder text = new StringBuilder();
        List<String> rest = lines;
        if (ok) {
            text.append(OK).append('\n');
        } else {
            text.append(ERROR).append(lines.getFirst()).append('\n');
            rest = lines.subList(1, lines.size());
        }
        for (String line : rest) {
            text.append(line).append('\n');
        }
        return text.toString();
    }

    /**
     * Reads an answer as sent.
     *
     * @throws IllegalArgumentException if the text is not an answer
     */
    public static ControlAnswer decode(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        if (!lines.isEmpty() && lines.getLast().isEmpty()) {
            lines.removeLast();
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("an empty answer");
        }
        String first = lines.removeFirst();
        if (first.equals(OK)) {
            return new ControlAnswer(true, lines);
        }
        if (first.startsWith(ERROR)) {
            lines.addFirst(first.substring(ERROR.length()));
            return new ControlAnswer(false, lines);
        }
        throw new IllegalArgumentException("not a xenshim control answer: '" + ControlRequest.printable(first) + "'");
    }
}
