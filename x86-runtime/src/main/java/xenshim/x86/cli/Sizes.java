package xenshim.x86.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine;
import xenshim.api.XenVersionInfo;

/** Parses the run command's sizes, times and versions, with messages naming the flag. */
final class Sizes {

    static final long MIN_MEMORY = 2L << 20;
    static final long MAX_MEMORY = 3L << 30;

    private Sizes() {
    }

    static long memory(CommandLine.Model.CommandSpec spec, String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1L << 20;
        if (t.endsWith("K")) {
            unit = 1L << 10;
        } else if (t.endsWith("G")) {
            unit = 1L << 30;
        }
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            t = t.substring(0, t.length() - 1);
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--memory: '" + text + "' is not a size like 128M");
        }
        if (bytes < MIN_MEMORY || bytes > MAX_MEMORY || bytes % 4096 != 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--memory must be a whole number of 4 KiB pages between 2M and 3G, got '" + text + "'");
        }
        return bytes;
    }

    static Duration duration(CommandLine.Model.CommandSpec spec, String flag, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return positive(spec, flag, text, Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2))));
            }
            if (t.endsWith("m")) {
                return positive(spec, flag, text, Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1))));
            }
            if (t.endsWith("s")) {
                t = t.substring(0, t.length() - 1);
            }
            return positive(spec, flag, text, Duration.ofMillis(Math.round(Double.parseDouble(t) * 1000)));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + ": '" + text + "' is not a time like 30s or 500ms");
        }
    }

    private static Duration positive(CommandLine.Model.CommandSpec spec, String flag, String text, Duration d) {
        if (d.isNegative()) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " must not be negative: '" + text + "'");
        }
        return d;
    }

    static XenVersionInfo version(CommandLine.Model.CommandSpec spec, XenVersionInfo base, String text) {
        String[] parts = text.trim().split("\\.");
        try {
            if (parts.length != 2) {
                throw new NumberFormatException();
            }
            return base.withVersion(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--xen-version wants MAJOR.MINOR with each 0..65535, got '" + text + "'");
        }
    }
}
