package xenshim.x86.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.Arrays;

/**
 * {@code struct kvm_sregs} (asm/kvm.h): segment registers, descriptor tables, control
 * registers, EFER, the APIC base and the pending-interrupt bitmap.
 *
 * @param interruptBitmap 4 words (256 bits); copied in and out
 */
public record Sregs(
        Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss, Segment tr, Segment ldt,
        DTable gdt, DTable idt,
        long cr0, long cr2, long cr3, long cr4, long cr8, long efer, long apicBase,
        long[] interruptBitmap) {

    public static final long CR0_PE = 1L, CR0_MP = 1L << 1, CR0_ET = 1L << 4, CR0_NE = 1L << 5,
            CR0_WP = 1L << 16, CR0_PG = 1L << 31;
    public static final long CR4_PSE = 1L << 4, CR4_PAE = 1L << 5;
    public static final long EFER_SCE = 1L, EFER_LME = 1L << 8, EFER_LMA = 1L << 10, EFER_NXE = 1L << 11;

    /** {@code struct kvm_sregs}: 8 kvm_segment, 2 kvm_dtable, 7 u64, u64[4]; 312 bytes. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            Segment.LAYOUT.withName("cs"), Segment.LAYOUT.withName("ds"), Segment.LAYOUT.withName("es"),
            Segment.LAYOUT.withName("fs"), Segment.LAYOUT.withName("gs"), Segment.LAYOUT.withName("ss"),
            Segment.LAYOUT.withName("tr"), Segment.LAYOUT.withName("ldt"),
            DTable.LAYOUT.withName("gdt"), DTable.LAYOUT.withName("idt"),
            JAVA_LONG.withName("cr0"), JAVA_LONG.withName("cr2"), JAVA_LONG.withName("cr3"),
            JAVA_LONG.withName("cr4"), JAVA_LONG.withName("cr8"), JAVA_LONG.withName("efer"),
            JAVA_LONG.withName("apic_base"),
            MemoryLayout.sequenceLayout(4, JAVA_LONG).withName("interrupt_bitmap")).withName("kvm_sregs");

    static final long GDT = LAYOUT.byteOffset(groupElement("gdt"));
    static final long IDT = LAYOUT.byteOffset(groupElement("idt"));
    static final long CR0 = LAYOUT.byteOffset(groupElement("cr0"));
    static final long CR2 = LAYOUT.byteOffset(groupElement("cr2"));
    static final long CR3 = LAYOUT.byteOffset(groupElement("cr3"));
    static final long CR4 = LAYOUT.byteOffset(groupElement("cr4"));
    static final long CR8 = LAYOUT.byteOffset(groupElement("cr8"));
    static final long EFER = LAYOUT.byteOffset(groupElement("efer"));
    static final long APIC_BASE = LAYOUT.byteOffset(groupElement("apic_base"));
    static final long INTERRUPT_BITMAP = LAYOUT.byteOffset(groupElement("interrupt_bitmap"));

    public Sregs {
        interruptBitmap = interruptBitmap == null ? new long[4] : Arrays.copyOf(interruptBitmap, 4);
    }

    @Override
    public long[] interruptBitmap() {
        return interruptBitmap.clone();
    }

    public Segment segment(SegmentRegister r) {
        return switch (r) {
            case CS -> cs; case DS -> ds; case ES -> es; case FS -> fs;
            case GS -> gs; case SS -> ss; case TR -> tr; case LDT -> ldt;
        };
    }

    public Sregs withCs(Segment s) {
        return new Sregs(s, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase, interruptBitmap);
    }

    /** A copy with DS, ES, FS, GS and SS all set to {@code s}. */
    public Sregs withDataSegments(Segment s) {
        return new Sregs(cs, s, s, s, s, s, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase, interruptBitmap);
    }

    public Sregs withTr(Segment s) {
        return new Sregs(cs, ds, es, fs, gs, ss, s, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase, interruptBitmap);
    }

    public Sregs withLdt(Segment s) {
        return new Sregs(cs, ds, es, fs, gs, ss, tr, s, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase, interruptBitmap);
    }

    public Sregs withGdt(DTable t) {
        return new Sregs(cs, ds, es, fs, gs, ss, tr, ldt, t, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase, interruptBitmap);
    }

    public Sregs withIdt(DTable t) {
        return new Sregs(cs, ds, es, fs, gs, ss, tr, ldt, gdt, t, cr0, cr2, cr3, cr4, cr8, efer, apicBase, interruptBitmap);
    }

    /** A copy with CR0, CR3, CR4 and EFER replaced. */
    public Sregs withControl(long cr0, long cr3, long cr4, long efer) {
        return new Sregs(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase, interruptBitmap);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sregs x && cs.equals(x.cs) && ds.equals(x.ds) && es.equals(x.es) && fs.equals(x.fs)
                && gs.equals(x.gs) && ss.equals(x.ss) && tr.equals(x.tr) && ldt.equals(x.ldt)
                && gdt.equals(x.gdt) && idt.equals(x.idt) && cr0 == x.cr0 && cr2 == x.cr2 && cr3 == x.cr3
                && cr4 == x.cr4 && cr8 == x.cr8 && efer == x.efer && apicBase == x.apicBase
                && Arrays.equals(interruptBitmap, x.interruptBitmap);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer,
                apicBase, Arrays.hashCode(interruptBitmap));
    }

    @Override
    public String toString() {
        return "Sregs[cs=%s, ds=%s, es=%s, fs=%s, gs=%s, ss=%s, tr=%s, ldt=%s, gdt=%s, idt=%s, cr0=%#x, cr2=%#x, cr3=%#x, cr4=%#x, cr8=%#x, efer=%#x, apicBase=%#x, interruptBitmap=%s]"
                .formatted(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase,
                        Arrays.toString(interruptBitmap));
    }

    static Sregs read(MemorySegment m) {
        long[] bitmap = new long[4];
        for (int i = 0; i < 4; i++) {
            bitmap[i] = m.get(JAVA_LONG, INTERRUPT_BITMAP + 8L * i);
        }
        return new Sregs(
                Segment.read(m, SegmentRegister.CS.offset), Segment.read(m, SegmentRegister.DS.offset),
                Segment.read(m, SegmentRegister.ES.offset), Segment.read(m, SegmentRegister.FS.offset),
                Segment.read(m, SegmentRegister.GS.offset), Segment.read(m, SegmentRegister.SS.offset),
                Segment.read(m, SegmentRegister.TR.offset), Segment.read(m, SegmentRegister.LDT.offset),
                DTable.read(m, GDT), DTable.read(m, IDT),
                m.get(JAVA_LONG, CR0), m.get(JAVA_LONG, CR2), m.get(JAVA_LONG, CR3), m.get(JAVA_LONG, CR4),
                m.get(JAVA_LONG, CR8), m.get(JAVA_LONG, EFER), m.get(JAVA_LONG, APIC_BASE), bitmap);
    }

    void write(MemorySegment m) {
        for (SegmentRegister r : SegmentRegister.values()) {
            segment(r).write(m, r.offset);
        }
        gdt.write(m, GDT);
        idt.write(m, IDT);
        m.set(JAVA_LONG, CR0, cr0);
        m.set(JAVA_LONG, CR2, cr2);
        m.set(JAVA_LONG, CR3, cr3);
        m.set(JAVA_LONG, CR4, cr4);
        m.set(JAVA_LONG, CR8, cr8);
        m.set(JAVA_LONG, EFER, efer);
        m.set(JAVA_LONG, APIC_BASE, apicBase);
        for (int i = 0; i < 4; i++) {
            m.set(JAVA_LONG, INTERRUPT_BITMAP + 8L * i, interruptBitmap[i]);
        }
    }
}
