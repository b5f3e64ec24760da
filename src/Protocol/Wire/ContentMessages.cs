namespace Mesh.Protocol.Wire;

/// <summary>Asks a peer's content store for one chunk of a blob.</summary>
public sealed record FetchChunk(string Hash, long Offset, int Length);

/// <summary>One chunk of a blob; <see cref="TotalSize"/> lets the fetcher know when it has all of it.</summary>
public sealed record ContentChunk(string Hash, long Offset, long TotalSize, byte[] Data);

/// <summary>The peer does not hold the blob.</summary>
public sealed record ContentMissing(string Hash);
