package dev.offramp.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * A read-only trie over vocabulary strings, keyed by code point, answering "longest vocabulary entry that is a
 * prefix of s[from, to)" without allocating. Greedy WordPiece asks exactly that question: Hugging Face shrinks
 * the candidate one character at a time from the end and takes the first hit, i.e. the longest prefix in the vocab.
 *
 * <p>Stored flat (CSR): the children of node n are edges firstEdge[n] .. firstEdge[n+1]-1, sorted by code point.
 */
final class VocabTrie {
    private final int[] firstEdge;  // (nodes + 1)
    private final int[] edgeChar;   // (edges) code point on the edge, sorted within a node
    private final int[] edgeTarget; // (edges) child node
    private final int[] tokenId;    // (nodes) id of the string ending at this node, or -1

    private VocabTrie(int[] firstEdge, int[] edgeChar, int[] edgeTarget, int[] tokenId) {
        this.firstEdge = firstEdge;
        this.edgeChar = edgeChar;
        this.edgeTarget = edgeTarget;
        this.tokenId = tokenId;
    }

    /** Builds the trie of the given strings; {@code ids[i]} is the id of {@code keys.get(i)}. Empty keys are skipped. */
    static VocabTrie build(List<String> keys, int[] ids) {
        // Build with maps first (load time only), then flatten breadth-first.
        List<TreeMap<Integer, Integer>> children = new ArrayList<>();
        List<Integer> ends = new ArrayList<>();
        children.add(new TreeMap<>());
        ends.add(-1);
        for (int k = 0; k < keys.size(); k++) {
            String key = keys.get(k);
            if (key.isEmpty()) {
                continue;
            }
            int node = 0;
            for (int i = 0; i < key.length(); ) {
                int cp = key.codePointAt(i);
                i += Character.charCount(cp);
                Integer next = children.get(node).get(cp);
                if (next == null) {
                    next = children.size();
                    children.add(new TreeMap<>());
                    ends.add(-1);
                    children.get(node).put(cp, next);
                }
                node = next;
            }
            ends.set(node, ids[k]);
        }
        int nodes = children.size();
        int[] firstEdge = new int[nodes + 1];
        for (int n = 0; n < nodes; n++) {
            firstEdge[n + 1] = firstEdge[n] + children.get(n).size();
        }
        int[] edgeChar = new int[firstEdge[nodes]];
        int[] edgeTarget = new int[firstEdge[nodes]];
        for (int n = 0; n < nodes; n++) {
            int e = firstEdge[n];
            for (var entry : children.get(n).entrySet()) {
                edgeChar[e] = entry.getKey();
                edgeTarget[e] = entry.getValue();
                e++;
            }
        }
        int[] tokenId = new int[nodes];
        for (int n = 0; n < nodes; n++) {
            tokenId[n] = ends.get(n);
        }
        return new VocabTrie(firstEdge, edgeChar, edgeTarget, tokenId);
    }

    /**
     * Longest vocabulary entry that is a prefix of s[from, to).
     *
     * @return -1 if none, else {@code (long) end << 32 | id} where end is the char index just past the match
     */
    long longestPrefix(char[] s, int from, int to) {
        long best = -1;
        int node = 0;
        int i = from;
        while (i < to) {
            int cp = Character.codePointAt(s, i, to);
            int lo = firstEdge[node];
            int hi = firstEdge[node + 1] - 1;
            int child = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int c = edgeChar[mid];
                if (c < cp) {
                    lo = mid + 1;
                } else if (c > cp) {
                    hi = mid - 1;
                } else {
                    child = edgeTarget[mid];
                    break;
                }
            }
            if (child < 0) {
                break;
            }
            node = child;
            i += Character.charCount(cp);
            if (tokenId[node] >= 0) {
                best = ((long) i << 32) | tokenId[node];
            }
        }
        return best;
    }

    int nodeCount() {
        return tokenId.length;
    }

    @Override
    public String toString() {
        return "VocabTrie[nodes=" + tokenId.length + ", edges=" + edgeChar.length + ", tokens="
                + Arrays.stream(tokenId).filter(t -> t >= 0).count() + "]";
    }
}
