package io.github.podcidr.ipam;

/**
 * Thrown when a {@link NodeIpam} is asked for a group it was not built with: a name no {@link NodeGroup} has, or the
 * {@linkplain NodeIpam#DEFAULT_GROUP default group} when only named groups were configured. The message names the
 * group asked for and the groups that exist.
 */
public final class UnknownGroupException extends IpamException {
    private static final long serialVersionUID = 1L;

    /** The name asked for. */
    private final String group;

    UnknownGroupException(String message, String group) {
        super(message);
        this.group = group;
    }

    /**
     * Returns the name of the group that was asked for.
     *
     * @return the unknown group's name
     */
    public String group() {
        return group;
    }
}
