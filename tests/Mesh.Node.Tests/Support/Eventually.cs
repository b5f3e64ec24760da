namespace Mesh.Node.Tests.Support;

/// <summary>Waits for a condition with a deadline, polling; never sleeps a fixed time to "let things settle".</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public static async Task True(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        for (var poll = 0; !condition(); poll++)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(Pause(poll));
        }
    }

    public static async Task<T> Value<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        for (var poll = 0; ; poll++)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(Pause(poll));
        }
    }

    /// <summary>Every 25 ms: in process, a look costs next to nothing, and a longer pause adds up over hundreds of waits.</summary>
    private static TimeSpan Pause(int poll) => TimeSpan.FromMilliseconds(25);
}
