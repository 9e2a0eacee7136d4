package xenshim.dispatcher.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A hypercall page installed a table: its first, a registered one, a saved one back on unregister, or a replacement. */
@Name(TableChangeEvent.NAME)
@Label("Table Change")
@Description("A HypercallPage installed a table: at creation, on registerLcall (saving the installed one) "
        + "on unregisterLcall (retiring the installed one) or on replaceLcall (retiring the installed one, "
        + "saving nothing)")
@Category("xenshim")
public final class TableChangeEvent extends Event {

    public static final String NAME = "xenshim.TableChange";

    @Label("Page")
    @Description("Which HypercallPage: its identity hash")
    String page;

    @Label("Change")
    @Description("install (the page's first table), register, unregister or replace")
    String change;

    @Label("Installed Table")
    String installed;

    @Label("Saved Table")
    @Description("The table register saved under the new one")
    String saved;

    @Label("Retired Table")
    @Description("The table unregister or replace removed and retired")
    String retired;

    @Label("Depth")
    @Description("How many tables are saved under the installed one, after the change")
    int depth;

    /** Records one change, if enabled. */
    public static void record(Object page, String change, String installed, String saved, String retired, int depth) {
        TableChangeEvent event = new TableChangeEvent();
        if (!event.shouldCommit()) {
            return;
        }
        event.page = "HypercallPage@" + Integer.toHexString(System.identityHashCode(page));
        event.change = change;
        event.installed = installed;
        event.saved = saved;
        event.retired = retired;
        event.depth = depth;
        event.commit();
    }
}
