namespace Mesh.Node.Content;

/// <summary>
/// How long and how often a node keeps trying to get a revision's body when one pass over its
/// peers did not give it (the origin busy, the others not holding it yet): the next pass comes
/// after a delay that doubles from <see cref="Initial"/> up to <see cref="Cap"/>, with jitter so a
/// fleet does not retry in step, and the revision counts as failed only once <see cref="Deadline"/>
/// has passed since this node first tried it (<c>mesh.content.fetch-deadline</c>).
/// </summary>
public sealed record FetchBackoff(TimeSpan Deadline, TimeSpan Initial, TimeSpan Cap)
{
    public static readonly TimeSpan DefaultInitial = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan DefaultCap = TimeSpan.FromSeconds(10);

    public static FetchBackoff Until(TimeSpan deadline) => new(deadline, DefaultInitial, DefaultCap);

    /// <summary>The wait before pass <paramref name="attempt"/> + 1 (the first retry is attempt 1): between half and all of the doubled delay.</summary>
    public TimeSpan Delay(int attempt, Random? random = null)
    {
        var full = Initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        full = Math.Min(full, Cap.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(full * (0.5 + 0.5 * (random ?? Random.Shared).NextDouble()));
    }
}
