package xenshim.xenstore;

/**
 * One watch of a connection: the absolute node (or {@code @} event) it
 * watches, its token, and the home prefix stripped from event paths when it
 * was set with a relative path.
 */
record Watch(String node, String token, String relativeTo) {

    /** {@code get_watch_path}: the event path as the watcher named it. */
    String eventPath(String name) {
        if (relativeTo == null) {
            return name;
        }
        String path = name.substring(Math.min(relativeTo.length(), name.length()));
        return path.startsWith("/") ? path.substring(1) : path;
    }

    boolean matches(String name, boolean exact) {
        return exact ? name.equals(node) : XsPath.isAtOrBelow(name, node);
    }
}
