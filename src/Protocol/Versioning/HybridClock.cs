namespace Mesh.Protocol.Versioning;

/// <summary>
/// Issues hybrid logical timestamps for one node. Every timestamp it issues is greater than
/// every one it issued or observed before, even if the wall clock steps back.
/// </summary>
public sealed class HybridClock(string node, Func<long>? wallClock = null)
{
    private readonly Func<long> _wall = wallClock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    private readonly Lock _lock = new();
    private long _lastWall;
    private int _lastCounter;

    public string Node => node;

    public HybridTimestamp Now()
    {
        lock (_lock)
        {
            var wall = _wall();
            if (wall > _lastWall)
            {
                _lastWall = wall;
                _lastCounter = 0;
            }
            else Bump();
            return new HybridTimestamp(_lastWall, _lastCounter, node);
        }
    }

    /// <summary>Moves the clock past a timestamp seen from another node.</summary>
    public void Observe(HybridTimestamp remote)
    {
        lock (_lock)
        {
            if (remote.WallMs > _lastWall)
            {
                _lastWall = remote.WallMs;
                _lastCounter = remote.Counter;
            }
            else if (remote.WallMs == _lastWall && remote.Counter > _lastCounter)
                _lastCounter = remote.Counter;
        }
    }

    private void Bump()
    {
        if (_lastCounter < HybridTimestamp.MaxCounter) _lastCounter++;
        else
        {
            // 65 536 events in one millisecond: borrow the next millisecond rather than wrap.
            _lastWall++;
            _lastCounter = 0;
        }
    }
}
