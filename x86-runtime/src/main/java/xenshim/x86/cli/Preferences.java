package xenshim.x86.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** Parses {@code --prefer NR=MODULE} options. */
final class Preferences {

    private Preferences() {
    }

    static Map<Integer, String> parse(List<String> values) {
        Map<Integer, String> winners = new LinkedHashMap<>();
        for (String value : values) {
            int eq = value.indexOf('=');
            if (eq <= 0 || eq == value.length() - 1) {
                throw new CommandLine.ParameterException(new CommandLine(new Main()),
                        "--prefer wants NR=MODULE, got '" + value + "'");
            }
            try {
                winners.put(Integer.decode(value.substring(0, eq).trim()), value.substring(eq + 1).trim());
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(new CommandLine(new Main()),
                        "--prefer: '" + value.substring(0, eq) + "' is not a hypercall number");
            }
        }
        return winners;
    }
}
