package xenshim.x86.dom0;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Frames of dom0's physmap for grant mappings. dom0 has no RAM: as a Linux dom0 takes ballooned-out
 * pages to map grants at, its backends take free frames here, one per mapping, given back at the unmap.
 */
final class Dom0HostFrames {

    /** The first frame handed out (4 GiB up); frames given back are reused first. */
    private static final long FIRST = 0x100000;
    private static final AtomicLong NEXT = new AtomicLong(FIRST);
    private static final ConcurrentLinkedDeque<Long> FREE = new ConcurrentLinkedDeque<>();

    private Dom0HostFrames() {
    }

    static long take() {
        Long reused = FREE.pollFirst();
        return reused != null ? reused : NEXT.getAndIncrement();
    }

    static void give(long frame) {
        FREE.addFirst(frame);
    }
}
