package xenshim.x86.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** Parses {@code --prefer NR=MODULE} options (of {@code run}, {@code table} and {@code swap}). */
final class Preferences {

    private Preferences() {
    }

    /** The winners, or a usage error (status 2). */
    static Map<Integer, String> parse(List<String> values) {
        try {
            return winners(values);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(new Main()), e.getMessage());
        }
    }

    /**
     * The winners by slot.
     *
     * @throws IllegalArgumentException naming the bad value
     */
    static Map<Integer, String> winners(List<String> values) {
        Map<Integer, String> winners = new LinkedHashMap<>();
        for (String value : values) {
            int eq = value.indexOf('=');
            if (eq <= 0 || eq == value.length() - 1) {
                throw new IllegalArgumentException("--prefer wants NR=MODULE, got '" + value + "'");
            }
            try {
                winners.put(Integer.decode(value.substring(0, eq).trim()), value.substring(eq + 1).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--prefer: '" + value.substring(0, eq) + "' is not a hypercall number");
            }
        }
        return winners;
    }
}
