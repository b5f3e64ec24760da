namespace Mesh.Protocol.Wire;

/// <summary>Asks a peer's content store for one chunk of a blob.</summary>
/// <param name="Expected">the asker was told the peer is getting the blob (it is above the asker in a
/// change's relay tree): a peer that neither holds nor pulls it yet waits a moment for its pull to start</param>
public sealed record FetchChunk(string Hash, long Offset, int Length, bool Expected = false);

/// <summary>One chunk of a blob; <see cref="TotalSize"/> lets the fetcher know when it has all of it.</summary>
public sealed record ContentChunk(string Hash, long Offset, long TotalSize, byte[] Data);

/// <summary>The peer does not hold the blob.</summary>
public sealed record ContentMissing(string Hash);

/// <summary>
/// Asks a peer to store these blobs before a change is acknowledged: it pulls what it lacks by
/// chunks (from <see cref="From"/> first, then <see cref="Origin"/>, then any other member),
/// verifies and stores it, then answers <see cref="ContentHeld"/>, or <see cref="ContentNotHeld"/>
/// with why not.
/// </summary>
/// <param name="From">the member to pull from first: the asking node, or the member above this one
/// in the change's relay tree (it serves the chunks it has while it is still pulling the rest)</param>
/// <param name="Origin">the asking node, which surely has the blobs; null: <see cref="From"/> is</param>
public sealed record HoldContent(string[] Hashes, string From, string? Origin = null);

/// <summary>The peer (<see cref="Node"/>) has every blob of a <see cref="HoldContent"/> on its disk.</summary>
public sealed record ContentHeld(string[] Hashes, string Node);

/// <summary>The peer could not store every blob of a <see cref="HoldContent"/>.</summary>
public sealed record ContentNotHeld(string[] Hashes, string Node, string Reason);
