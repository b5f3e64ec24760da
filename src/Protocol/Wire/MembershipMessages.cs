namespace Mesh.Protocol.Wire;

/// <summary>
/// Asked of a seed by a node about to join: which member holds the name <see cref="Name"/>,
/// other than one at the asker's own address (<see cref="Asker"/>, its earlier incarnation).
/// </summary>
public sealed record NameQuery(string Name, string Asker);

/// <summary>
/// The answer to a <see cref="NameQuery"/>: the address of the reachable member holding the
/// name, or null when it is free. <see cref="Member"/>: the seed answering is itself an up
/// member, so it sees the whole membership and its "free" can be taken at once.
/// </summary>
public sealed record NameHolder(string Name, string? Holder, bool Member);

/// <summary>Told to a member just before it is downed because the older member at <see cref="Holder"/> holds its name, so it knows why it goes.</summary>
public sealed record NameTaken(string Name, string Holder);

/// <summary>Told to the holder of a name by a younger member at <see cref="Address"/> that found the name taken and leaves, for the holder's log.</summary>
public sealed record NameYielded(string Name, string Address);

/// <summary>A node's wall-clock reading sent to a peer, which answers with its own (<see cref="ClockReading"/>).</summary>
public sealed record ClockProbe(long SentMs);

/// <summary>
/// A peer's answer to a <see cref="ClockProbe"/>: its own raw wall-clock reading (before any
/// correction) and the correction it applies to the versions it stamps.
/// </summary>
public sealed record ClockReading(long SentMs, long WallMs, long CorrectionMs);

/// <summary>
/// What a node published on <see cref="Topic"/> (a new revision, a report, a rollout step),
/// sent to the topics actor of every member, which hands <see cref="Message"/> to the actors of
/// its node subscribed to the topic.
/// </summary>
public sealed record TopicMessage(string Topic, object Message);
