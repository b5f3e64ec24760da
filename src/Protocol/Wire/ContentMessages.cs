namespace Mesh.Protocol.Wire;

/// <summary>Asks a peer's content store for one chunk of a blob.</summary>
public sealed record FetchChunk(string Hash, long Offset, int Length);

/// <summary>One chunk of a blob; <see cref="TotalSize"/> lets the fetcher know when it has all of it.</summary>
public sealed record ContentChunk(string Hash, long Offset, long TotalSize, byte[] Data);

/// <summary>The peer does not hold the blob.</summary>
public sealed record ContentMissing(string Hash);

/// <summary>
/// Asks a peer to store these blobs before a change is acknowledged: it pulls what it lacks by
/// chunks (from <see cref="From"/>, the asking node's address, first), verifies and stores it,
/// then answers <see cref="ContentHeld"/>, or <see cref="ContentNotHeld"/> with why not.
/// </summary>
public sealed record HoldContent(string[] Hashes, string From);

/// <summary>The peer (<see cref="Node"/>) has every blob of a <see cref="HoldContent"/> on its disk.</summary>
public sealed record ContentHeld(string[] Hashes, string Node);

/// <summary>The peer could not store every blob of a <see cref="HoldContent"/>.</summary>
public sealed record ContentNotHeld(string[] Hashes, string Node, string Reason);
