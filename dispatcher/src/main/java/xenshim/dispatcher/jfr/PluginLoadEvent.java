package xenshim.dispatcher.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A folder of plugin jars loaded as a module layer, or refused; its duration is the load's. */
@Name(PluginLoadEvent.NAME)
@Label("Plugin Load")
@Description("A folder of plugin module jars turned into a module layer, or the reason it was not")
@Category("xenshim")
public final class PluginLoadEvent extends Event {

    public static final String NAME = "xenshim.PluginLoad";

    @Label("Folder")
    public String folder;

    @Label("Modules")
    @Description("The modules the layer defines, comma-separated")
    public String modules;

    @Label("Loaded")
    public boolean loaded;

    @Label("Failure")
    @Description("Why the folder was not loaded")
    public String failure;
}
