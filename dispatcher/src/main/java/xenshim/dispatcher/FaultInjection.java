package xenshim.dispatcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import xenshim.api.CallContext;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.SubOps;
import xenshim.api.xen.XenErrno;
import xenshim.api.xen.XenGnttab;
import xenshim.api.xen.XenMemory;

/**
 * Fault injection: an immutable set of rules that make chosen hypercalls fail with a
 * chosen Xen errno, so that guest authors can test their error paths. Installed on a
 * {@link HypercallPage} with {@link HypercallPage#injectFaults}; a failed call does not
 * run its handler and returns {@code -errno}.
 *
 * <h2>Rule text</h2>
 * One rule per line; {@code #} starts a comment, blank lines are skipped:
 * <pre>
 * rule   = target option...
 * target = HYPERCALL [ ":" SUBOP ]          xen_version, 17, event_channel_op:EVTCHNOP_send, memory_op:7
 * option = "errno=" ERRNO                   required: EINVAL, XEN_EINVAL, -22 or 22
 *        | "rate=" R                        fail each matching call with probability R (0..1)
 *        | "nth=" N [ "every" ]             fail the N-th matching call (with every: N, 2N, 3N ...)
 *        | "domain=" DOMID                  match only calls from this domain
 * </pre>
 * A hypercall is named as Xen names it ({@link Hypercalls#name}) or by number; a sub-op
 * (the first argument) by the name {@link SubOps} gives it or by number. Exactly one of
 * {@code rate} and {@code nth} is given. Examples:
 * <pre>
 * event_channel_op:EVTCHNOP_send domain=1 errno=EINVAL rate=0.1
 * memory_op nth=3 errno=ENOMEM every
 * </pre>
 *
 * <p>Rules are checked in order: each rule that matches a call counts it, and the first
 * whose rate or count says "fail" fails it; the rules after that one do not see the call. A rate draws from a {@link SplittableRandom}
 * per rule, split in rule order from one seed, so a run with the same seed and the same
 * calls fails the same calls.
 *
 * <p>Rules see each entry of the page: a long call that was preempted and is continued
 * (its progress in its arguments) is matched, counted and may be failed again at each
 * entry.
 */
public final class FaultInjection {

    /** Any sub-op or any domain. */
    private static final long ANY = -1;

    private final List<Rule> rules;
    /** The rules for each hypercall slot, in order; null for a slot no rule names. */
    private final Rule[][] bySlot = new Rule[Hypercalls.NR_SLOTS][];

    private FaultInjection(List<Rule> rules) {
        this.rules = List.copyOf(rules);
        for (int nr = 0; nr < Hypercalls.NR_SLOTS; nr++) {
            int n = nr;
            Rule[] matching = this.rules.stream().filter(r -> r.nr == n).toArray(Rule[]::new);
            bySlot[nr] = matching.length == 0 ? null : matching;
        }
    }

    /**
     * Parses rules; each entry of {@code lines} is one line of {@code source}, numbered from 1.
     *
     * @param source the file or flag the lines come from, for errors
     * @param seed   the seed the rates draw from
     * @throws FaultRuleException naming {@code source}, the line and the bad word
     */
    public static FaultInjection parse(String source, List<String> lines, long seed) {
        return parse(List.of(new Source(source, lines)), seed);
    }

    /** Parses the rules of several sources, in order, drawing every rate from one seed. */
    public static FaultInjection parse(List<Source> sources, long seed) {
        SplittableRandom seeds = new SplittableRandom(seed);
        List<Rule> rules = new ArrayList<>();
        for (Source source : sources) {
            for (int i = 0; i < source.lines().size(); i++) {
                String line = source.lines().get(i);
                int hash = line.indexOf('#');
                String text = (hash >= 0 ? line.substring(0, hash) : line).strip();
                if (!text.isEmpty()) {
                    rules.add(Rule.parse(text, source.name() + ":" + (i + 1), seeds.split()));
                }
            }
        }
        return new FaultInjection(rules);
    }

    /** Lines of rule text and where they come from ({@code --fault}, a file name). */
    public record Source(String name, List<String> lines) {
        public Source {
            Objects.requireNonNull(name);
            lines = List.copyOf(lines);
        }
    }

    /** The rules, in order. */
    public List<Rule> rules() {
        return rules;
    }

    /**
     * The result a faulted call returns instead of running: {@code -errno} of the first
     * matching rule that fires, or 0 if the call runs.
     */
    long inject(CallContext ctx, long nr, long a0) {
        if (nr < 0 || nr >= Hypercalls.NR_SLOTS) {
            return 0;
        }
        Rule[] matching = bySlot[(int) nr];
        if (matching == null) {
            return 0;
        }
        for (Rule rule : matching) {
            if (rule.matches(ctx, a0) && rule.fires()) {
                return -rule.errno;
            }
        }
        return 0;
    }

    @Override
    public String toString() {
        return "FaultInjection" + rules;
    }

    /** A rule that a line of text did not make. */
    public static final class FaultRuleException extends IllegalArgumentException {
        public FaultRuleException(String message) {
            super(message);
        }
    }

    /** One rule and what it has done. Thread-safe. */
    public static final class Rule {
        private final String text;
        private final String where;
        private final int nr;
        private final long subOp;
        private final long domid;
        private final int errno;
        private final double rate;
        private final long nth;
        private final boolean every;
        private final SplittableRandom random;
        private final AtomicLong matched = new AtomicLong();
        private final AtomicLong injected = new AtomicLong();

        private Rule(String text, String where, int nr, long subOp, long domid, int errno, double rate, long nth,
                boolean every, SplittableRandom random) {
            this.text = text;
            this.where = where;
            this.nr = nr;
            this.subOp = subOp;
            this.domid = domid;
            this.errno = errno;
            this.rate = rate;
            this.nth = nth;
            this.every = every;
            this.random = random;
        }

        static Rule parse(String text, String where, SplittableRandom random) {
            String[] words = text.split("\\s+");
            String target = words[0];
            int colon = target.indexOf(':');
            String call = colon < 0 ? target : target.substring(0, colon);
            int nr = hypercall(where, call);
            long subOp = colon < 0 ? ANY : subOp(where, nr, target.substring(colon + 1));
            long domid = ANY;
            int errno = 0;
            double rate = Double.NaN;
            long nth = 0;
            boolean every = false;
            for (int i = 1; i < words.length; i++) {
                String word = words[i];
                int eq = word.indexOf('=');
                String key = eq < 0 ? word : word.substring(0, eq);
                String value = eq < 0 ? null : word.substring(eq + 1);
                switch (key) {
                    case "every" -> {
                        if (value != null) {
                            throw bad(where, word, "every takes no value");
                        }
                        every = true;
                    }
                    case "errno" -> errno = errno(where, word, value);
                    case "rate" -> {
                        rate = number(where, word, value, Double::parseDouble);
                        if (!(rate >= 0 && rate <= 1)) {
                            throw bad(where, word, "a rate is 0..1");
                        }
                    }
                    case "nth" -> {
                        nth = number(where, word, value, Long::parseLong);
                        if (nth < 1) {
                            throw bad(where, word, "nth counts from 1");
                        }
                    }
                    case "domain" -> {
                        domid = number(where, word, value, Long::parseLong);
                        if (domid < 0 || domid >= 0x7FF0) {
                            throw bad(where, word, "a domain id is 0..32751");
                        }
                    }
                    default -> throw bad(where, word, "expected errno=, rate=, nth=, every or domain=");
                }
            }
            if (errno == 0) {
                throw new FaultRuleException(where + ": '" + text + "': no errno= (which error to fail with)");
            }
            if (Double.isNaN(rate) == (nth == 0)) {
                throw new FaultRuleException(where + ": '" + text + "': give either rate= or nth=, exactly one");
            }
            if (every && nth == 0) {
                throw new FaultRuleException(where + ": '" + text + "': every goes with nth=");
            }
            return new Rule(text, where, nr, subOp, domid, errno, rate, nth, every, random);
        }

        private static int hypercall(String where, String word) {
            for (int nr = 0; nr < Hypercalls.NR_SLOTS; nr++) {
                if (Hypercalls.name(nr).equals(word)) {
                    return nr;
                }
            }
            try {
                int nr = Integer.parseInt(word);
                if (nr >= 0 && nr < Hypercalls.NR_SLOTS) {
                    return nr;
                }
            } catch (NumberFormatException notANumber) {
                // said below
            }
            throw bad(where, word, "not a hypercall name or number 0.." + (Hypercalls.NR_SLOTS - 1));
        }

        private static long subOp(String where, int nr, String word) {
            for (int op = 0; op < 64; op++) {
                if (SubOps.describe(nr, op).equals(word)) {
                    return op;
                }
            }
            try {
                long op = Long.decode(word);
                if (op >= 0) {
                    return op;
                }
            } catch (NumberFormatException notANumber) {
                // said below
            }
            throw bad(where, word, "not a sub-op of " + Hypercalls.name(nr) + " (a name or a number)");
        }

        private static int errno(String where, String word, String value) {
            if (value == null || value.isEmpty()) {
                throw bad(where, word, "errno= takes a Xen errno, as EINVAL or -22");
            }
            String name = value.toUpperCase(Locale.ROOT);
            name = name.startsWith("XEN_") ? name.substring(4) : name;
            for (int e = 1; e < 128; e++) {
                if (XenErrno.describe(-e).equals("-" + name)) {
                    return e;
                }
            }
            try {
                int e = Math.abs(Integer.parseInt(value));
                if (e > 0 && e < 128 && !XenErrno.describe(-e).equals(Long.toString(-e))) {
                    return e;
                }
            } catch (NumberFormatException notANumber) {
                // said below
            }
            throw bad(where, word, "not a Xen errno (as EINVAL or -22)");
        }

        private interface Parser<T> {
            T parse(String s);
        }

        private static <T> T number(String where, String word, String value, Parser<T> parser) {
            try {
                return parser.parse(value == null ? "" : value);
            } catch (NumberFormatException e) {
                throw bad(where, word, "not a number");
            }
        }

        private static FaultRuleException bad(String where, String word, String why) {
            return new FaultRuleException(where + ": bad word '" + word + "': " + why);
        }

        boolean matches(CallContext ctx, long a0) {
            if (subOp != ANY) {
                long op = nr == Hypercalls.__HYPERVISOR_memory_op ? a0 & XenMemory.MEMOP_CMD_MASK
                        : nr == Hypercalls.__HYPERVISOR_grant_table_op ? a0 & XenGnttab.GNTTABOP_CMD_MASK
                        : a0;
                if (op != subOp) {
                    return false;
                }
            }
            return domid == ANY || ctx.domain().domid() == domid;
        }

        /** Counts a matching call; whether it fails. */
        boolean fires() {
            long n = matched.incrementAndGet();
            boolean fail;
            if (nth > 0) {
                fail = every ? n % nth == 0 : n == nth;
            } else {
                double draw;
                synchronized (random) {
                    draw = random.nextDouble();
                }
                fail = draw < rate;
            }
            if (fail) {
                injected.incrementAndGet();
            }
            return fail;
        }

        /** The rule as written. */
        public String text() {
            return text;
        }

        /** Where it was written: source and line. */
        public String where() {
            return where;
        }

        /** The Xen errno it fails calls with (positive). */
        public int errno() {
            return errno;
        }

        /** Calls it matched so far. */
        public long matched() {
            return matched.get();
        }

        /** Calls it failed so far. */
        public long injected() {
            return injected.get();
        }

        /** One line for a report: how many calls this rule failed. */
        public String report() {
            return "fault " + where + " '" + text + "': failed " + injected() + " of " + matched()
                    + " matching calls with " + XenErrno.describe(-errno);
        }

        @Override
        public String toString() {
            return where + " " + text;
        }
    }
}
