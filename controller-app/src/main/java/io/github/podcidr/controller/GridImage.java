package io.github.podcidr.controller;

import io.github.podcidr.ipam.PoolOccupancy;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * The picture of a pool as a PNG: one square per cell, in address order, row by row. A cell of one subnet is blue
 * when allocated, grey when reserved, pale when free; a cell that sums up a block of subnets is shaded from pale
 * (free) to the colour of what uses most of it, darker the fuller; red marks a subnet that two nodes claim (at least
 * {@link #MIN_MARK} pixels wide, so that it shows on a map of 65,536 squares of 2 pixels). The PNG
 * is written here (RGB, one zlib stream) so the page needs no image library and fetches nothing.
 */
final class GridImage {
    static final int FREE = 0xE3E8EE;
    static final int ALLOCATED = 0x2563EB;
    static final int RESERVED = 0x6B7280;
    static final int CONFLICT = 0xDC2626;
    private static final int BACKGROUND = 0xFFFFFF;
    /** Widest picture in pixels; squares are at most {@link #MAX_CELL} pixels. */
    static final int MAX_WIDTH = 512;
    static final int MAX_CELL = 24;
    /** Smallest side, in pixels, of the mark of a conflicting subnet. */
    static final int MIN_MARK = 6;

    private GridImage() {
    }

    /** Pixels per cell side for a grid of a number of columns. */
    static int cellPixels(int columns) {
        return Math.max(1, Math.min(MAX_CELL, MAX_WIDTH / columns));
    }

    /** The colour of one cell, as the class comment says. */
    static int colour(StatusSnapshot.Pool pool, int cell) {
        if (pool.conflictCells().get(cell)) {
            return CONFLICT;
        }
        PoolOccupancy o = pool.occupancy();
        long a = o.allocated(cell);
        long r = o.reserved(cell);
        if (a + r == 0) {
            return FREE;
        }
        int base = a >= r ? ALLOCATED : RESERVED;
        if (o.subnetsPerCell() == 1) {
            return base;
        }
        double share = (double) (a + r) / o.subnetsPerCell();
        return mix(FREE, base, 0.25 + 0.75 * share); // a quarter of the way at once: any use shows
    }

    private static int mix(int from, int to, double t) {
        int out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
            int f = (from >> shift) & 0xFF;
            int g = (to >> shift) & 0xFF;
            out |= ((int) Math.round(f + (g - f) * t) & 0xFF) << shift;
        }
        return out;
    }

    /**
     * Draws a pool.
     *
     * @param pool the pool and its cells
     * @return the PNG bytes
     */
    static byte[] png(StatusSnapshot.Pool pool) {
        int columns = pool.columns();
        int rows = pool.rows();
        int px = cellPixels(columns);
        int gap = px >= 6 ? 1 : 0; // a white line between squares when they are big enough to spare it
        int width = columns * px;
        int height = rows * px;
        byte[] raw = new byte[height * (1 + 3 * width)];
        int at = 0;
        for (int y = 0; y < height; y++) {
            raw[at++] = 0; // filter: none
            int row = y / px;
            boolean gapRow = gap > 0 && y % px == px - 1;
            for (int x = 0; x < width; x++) {
                int rgb = gapRow || gap > 0 && x % px == px - 1 ? BACKGROUND : colour(pool, row * columns + x / px);
                raw[at++] = (byte) (rgb >> 16);
                raw[at++] = (byte) (rgb >> 8);
                raw[at++] = (byte) rgb;
            }
        }
        // Squares of a few pixels hide a red one among blue ones: draw each conflict at least MIN_MARK pixels wide,
        // centred on its square (at most 50 of them: they come from the latest problems).
        if (px < MIN_MARK) {
            BitSet conflicts = pool.conflictCells();
            for (int cell = conflicts.nextSetBit(0); cell >= 0; cell = conflicts.nextSetBit(cell + 1)) {
                int cx = (cell % columns) * px + px / 2 - MIN_MARK / 2;
                int cy = (cell / columns) * px + px / 2 - MIN_MARK / 2;
                for (int y = Math.max(0, cy); y < Math.min(height, cy + MIN_MARK); y++) {
                    for (int x = Math.max(0, cx); x < Math.min(width, cx + MIN_MARK); x++) {
                        int i = y * (1 + 3 * width) + 1 + 3 * x;
                        raw[i] = (byte) (CONFLICT >> 16);
                        raw[i + 1] = (byte) (CONFLICT >> 8);
                        raw[i + 2] = (byte) CONFLICT;
                    }
                }
            }
        }
        try {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
            ByteArrayOutputStream header = new ByteArrayOutputStream();
            DataOutputStream h = new DataOutputStream(header);
            h.writeInt(width);
            h.writeInt(height);
            h.write(new byte[] {8, 2, 0, 0, 0}); // 8 bits per channel, RGB, deflate, no filter method, no interlace
            chunk(png, "IHDR", header.toByteArray());
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
            try (DeflaterOutputStream z = new DeflaterOutputStream(data, deflater)) {
                z.write(raw);
            } finally {
                deflater.end();
            }
            chunk(png, "IDAT", data.toByteArray());
            chunk(png, "IEND", new byte[0]);
            return png.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory streams do not fail
        }
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        d.writeInt(data.length);
        d.write(name);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }
}
