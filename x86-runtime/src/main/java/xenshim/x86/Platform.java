package xenshim.x86;

import java.nio.file.Path;
import java.util.Map;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.Discovery;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.PlatformServices;
import xenshim.dispatcher.PluginLayer;

/**
 * The platform's services as handlers see them, and the tables built over
 * them: the built-in handlers of the boot layer, optionally with a folder of
 * plugin jars layered over them.
 */
public final class Platform {

    private final XenVersionInfo version;

    public Platform(XenVersionInfo version) {
        this.version = version;
    }

    public static Platform defaults() {
        return new Platform(XenVersionInfo.defaults());
    }

    /** The services bound in every table's injector. */
    public PlatformServices services() {
        return PlatformServices.builder()
                .bind(XenVersionInfo.class, version)
                .build();
    }

    /**
     * The table of the boot layer's handlers, or of a plugins folder layered
     * over it (plugins and built-ins together; {@code winners} settles slots
     * both fill).
     */
    public HypercallTable table(Path plugins, Map<Integer, String> winners) {
        ModuleLayer layer = plugins == null ? ModuleLayer.boot() : PluginLayer.load(plugins);
        Discovery discovery = Discovery.in(layer).services(services());
        winners.forEach(discovery::prefer);
        return discovery.build(plugins == null ? "built-in" : "built-in+" + plugins.getFileName());
    }
}
