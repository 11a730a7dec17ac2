package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.ExistingNode;
import io.github.podcidr.ipam.InvalidCidrException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The least a controller needs over two baseline pools to do what {@code NodeIpam} does in S8 and S9: a node to
 * subnets map and a subnet to node map (to refuse duplicates on restore), all-or-nothing dual-stack assignment, and
 * one lock around every method, as {@code NodeIpam} has. It does not classify problems into a report (malformed,
 * outside, misaligned, missing family) as {@code NodeIpam} does; that is extra work only ours pays.
 */
public final class BaselineNodeCidrs implements NodeCidrs {
    private final SubnetAllocator[] pools;
    private final Map<String, Cidr[]> nodes = new HashMap<>();
    private final Map<Cidr, String> holders = new HashMap<>();

    /**
     * Creates the node layer over one pool per family, the first primary.
     *
     * @param primary the pool of the primary family
     * @param secondary the pool of the other family
     */
    public BaselineNodeCidrs(SubnetAllocator primary, SubnetAllocator secondary) {
        this.pools = new SubnetAllocator[] {primary, secondary};
    }

    @Override
    public synchronized List<Cidr> assign(String node) {
        Cidr[] held = nodes.get(node);
        if (held == null) {
            Cidr first = pools[0].allocate();
            Cidr second;
            try {
                second = pools[1].allocate();
            } catch (RuntimeException e) {
                pools[0].release(first); // all or nothing
                throw e;
            }
            held = new Cidr[] {first, second};
            nodes.put(node, held);
            holders.put(first, node);
            holders.put(second, node);
        }
        return List.of(held);
    }

    @Override
    public synchronized boolean release(String node) {
        Cidr[] held = nodes.remove(node);
        if (held == null) {
            return false;
        }
        for (int i = 0; i < held.length; i++) {
            if (held[i] != null) {
                holders.remove(held[i]);
                pools[i].release(held[i]);
            }
        }
        return true;
    }

    @Override
    public synchronized long restore(List<ExistingNode> existing) {
        long adopted = 0;
        for (ExistingNode n : existing) {
            for (String text : n.podCidrs()) {
                Cidr c;
                try {
                    c = Cidr.parse(text);
                } catch (InvalidCidrException e) {
                    continue;
                }
                int slot = pools[0].hasSubnet(c) ? 0 : pools[1].hasSubnet(c) ? 1 : -1;
                if (slot < 0 || holders.containsKey(c)) {
                    continue;
                }
                Cidr[] held = nodes.computeIfAbsent(n.name(), k -> new Cidr[2]);
                if (held[slot] != null) {
                    continue; // a second CIDR of one family: the first is used
                }
                pools[slot].occupyParsed(c, text);
                holders.put(c, n.name());
                held[slot] = c;
                adopted++;
            }
        }
        return adopted;
    }
}
