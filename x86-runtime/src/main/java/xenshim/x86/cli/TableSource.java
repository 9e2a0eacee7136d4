package xenshim.x86.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;
import xenshim.dispatcher.HypercallTable;
import xenshim.x86.Platform;

/** The options that say which handlers fill the table: {@code --plugins} and {@code --prefer}. */
final class TableSource {

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "A folder of handler module jars layered over the built-in handlers.")
    Path plugins;

    @Option(names = "--prefer", paramLabel = "NR=MODULE", split = ",",
            description = "Which provider wins a slot claimed twice, by module or class name.")
    List<String> prefer = List.of();

    HypercallTable table(Platform platform) {
        return platform.table(plugins, Preferences.parse(prefer));
    }
}
