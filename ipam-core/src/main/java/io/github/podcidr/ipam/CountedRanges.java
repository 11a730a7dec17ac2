// Index ranges that may overlap, each added and later removed as a unit, and the union they cover.
package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A multiset of index ranges {@code [from, to)} kept as counted segments: how many ranges cover each index. A pool
 * uses it for the ranges held for pod CIDRs wider than a node subnet, which may overlap (two mistyped nodes), so that
 * removing one range uncovers exactly the indices no other range still covers.
 *
 * <p>Not thread-safe.
 *
 * @implNote A sorted map from segment start to count, so each operation costs O(log s + segments it spans), s being
 *     the number of segments (at most twice the number of ranges), whatever the length of the ranges.
 */
final class CountedRanges {
    /**
     * Start of each segment to the number of ranges covering [start, next start). Invariants: adjacent segments have
     * different counts, the first count is positive, the last is 0 (the end of the covered indices).
     */
    private final TreeMap<Long, Integer> counts = new TreeMap<>();

    /** The number of ranges covering an index. */
    private int countAt(long index) {
        Map.Entry<Long, Integer> e = counts.floorEntry(index);
        return e == null ? 0 : e.getValue();
    }

    /** True if at least one range covers an index. */
    boolean covers(long index) {
        return countAt(index) > 0;
    }

    /**
     * Adds a range.
     *
     * @return the segments {@code {from, to}} that no range covered before, in order
     */
    List<long[]> add(long from, long to) {
        return change(from, to, +1);
    }

    /**
     * Removes a range added before (each index of it is covered at least once).
     *
     * @return the segments {@code {from, to}} that no range covers any more, in order
     * @throws IllegalStateException if part of the range is not covered: it was not added
     */
    List<long[]> remove(long from, long to) {
        if (from < to && coveredEnd(from) < to) { // checked first, so that a wrong call changes nothing
            throw new IllegalStateException("range [" + from + ", " + to + ") was not added: " + counts);
        }
        return change(from, to, -1);
    }

    private List<long[]> change(long from, long to, int delta) {
        List<long[]> flipped = new ArrayList<>(1);
        if (from >= to) {
            return flipped;
        }
        split(from);
        split(to);
        for (Map.Entry<Long, Integer> e : counts.subMap(from, true, to, false).entrySet()) {
            int before = e.getValue();
            int after = before + delta;
            if (before == 0 || after == 0) {
                // before: 0 -> 1 newly covered; after: 1 -> 0 uncovered; segments of count 0 are never adjacent
                long end = counts.higherKey(e.getKey());
                if (!flipped.isEmpty() && flipped.get(flipped.size() - 1)[1] == e.getKey()) {
                    flipped.get(flipped.size() - 1)[1] = end;
                } else {
                    flipped.add(new long[] {e.getKey(), end});
                }
            }
            e.setValue(after);
        }
        // Inside the range, neighbours changed alike and still differ; only the two ends may now equal a neighbour.
        normalize(to);
        normalize(from);
        return flipped;
    }

    /** Makes a segment start at {@code at}, with the count it has there. */
    private void split(long at) {
        if (!counts.containsKey(at)) {
            counts.put(at, countAt(at));
        }
    }

    /** Drops the segment start at {@code at} if its count equals the count before it (0 before the first). */
    private void normalize(long at) {
        Integer here = counts.get(at);
        if (here == null) {
            return;
        }
        Map.Entry<Long, Integer> before = counts.lowerEntry(at);
        if (here == (before == null ? 0 : before.getValue())) {
            counts.remove(at);
        }
    }

    /** The first index at or after {@code index} that no range covers; {@code index} itself if none covers it. */
    long coveredEnd(long index) {
        Map.Entry<Long, Integer> e = counts.floorEntry(index);
        if (e == null || e.getValue() == 0) {
            return index;
        }
        Map.Entry<Long, Integer> next = counts.higherEntry(e.getKey());
        while (next.getValue() > 0) { // the last segment has count 0, so this ends
            next = counts.higherEntry(next.getKey());
        }
        return next.getKey();
    }

    /** The first covered index in [from, to), or {@code to} if there is none. */
    long nextCovered(long from, long to) {
        if (covers(from)) {
            return from < to ? from : to;
        }
        Long next = counts.higherKey(from); // after a segment of count 0 comes a covered one (or nothing)
        return next == null || next >= to ? to : next;
    }

    /** Throws {@link IllegalStateException} if the segments break the invariants of {@link #counts}. */
    void checkInvariants() {
        if (counts.isEmpty()) {
            return;
        }
        int previous = 0;
        for (Map.Entry<Long, Integer> e : counts.entrySet()) {
            if (e.getValue() < 0 || e.getValue() == previous) {
                throw new IllegalStateException("counted ranges not normalized at " + e.getKey() + ": " + counts);
            }
            previous = e.getValue();
        }
        if (previous != 0) {
            throw new IllegalStateException("counted ranges do not end with count 0: " + counts);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CountedRanges other && counts.equals(other.counts);
    }

    @Override
    public int hashCode() {
        return counts.hashCode();
    }

    @Override
    public String toString() {
        return "CountedRanges" + counts;
    }
}
