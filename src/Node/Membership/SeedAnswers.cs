using Mesh.Protocol.Api;

namespace Mesh.Node.Membership;

/// <summary>
/// What each node a not-yet-joined node tries to join through answered to its last probes
/// (<see cref="SeedProbe"/>), since when, and whether this node should form the mesh again
/// itself (<see cref="ShouldForm"/>). Thread-safe: the control API reads it.
/// </summary>
public sealed class SeedAnswers
{
    public const string Member = "member";
    public const string NotMember = "not a member";
    public const string NoAnswer = "no answer";

    /// <summary>Rounds in a row <see cref="ShouldForm"/> must hold: a mesh that is forming elsewhere shows up within one.</summary>
    public const int FormingRounds = 2;

    private sealed record Entry(string Answer, string? Status, DateTimeOffset Since, bool HeardThisRound, int Unheard = 0);

    private readonly Lock _lock = new();
    private readonly string _self;
    private readonly Dictionary<string, Entry> _seeds = new(StringComparer.Ordinal);
    private int _rounds;
    private bool _joined;

    /// <param name="self">this node's cluster address</param>
    /// <param name="seeds">the nodes it joins through (its own address is left out)</param>
    public SeedAnswers(string self, IEnumerable<string> seeds, DateTimeOffset now)
    {
        _self = self;
        foreach (var seed in seeds.Where(s => s != self)) _seeds[seed] = new Entry(NoAnswer, null, now, false);
    }

    public IReadOnlyCollection<string> Seeds
    {
        get
        {
            lock (_lock) return _seeds.Keys.ToArray();
        }
    }

    /// <summary>What each seed answers, while this node has not joined; empty once it has.</summary>
    public SeedAnswer[] Current
    {
        get
        {
            lock (_lock)
                return _joined ? [] : _seeds.OrderBy(s => s.Key, StringComparer.Ordinal)
                    .Select(s => new SeedAnswer(s.Key, s.Value.Answer, s.Value.Status, s.Value.Since)).ToArray();
        }
    }

    /// <summary>This node has joined: nothing more to report or decide.</summary>
    public void Joined()
    {
        lock (_lock) _joined = true;
    }

    /// <summary>
    /// <paramref name="seed"/> answered: its own member status, or null when it is no member.
    /// Returns a line to log when its answer changed.
    /// </summary>
    public string? Heard(string seed, string? status, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_seeds.TryGetValue(seed, out var before)) return null;
            var answer = status is null ? NotMember : Member;
            var changed = before.Answer != answer || before.Status != status;
            _seeds[seed] = new Entry(answer, status, changed ? now : before.Since, true, Unheard: 0);
            return changed ? Describe(seed, _seeds[seed]) : null;
        }
    }

    /// <summary>
    /// A probe round ended: a seed that did not answer in it has no answer (since now, if it
    /// had one before). Returns the lines to log for the seeds whose answer changed.
    /// </summary>
    public IReadOnlyList<string> RoundEnded(DateTimeOffset now)
    {
        lock (_lock)
        {
            var lines = new List<string>();
            foreach (var (seed, entry) in _seeds.ToArray())
            {
                if (entry.HeardThisRound) _seeds[seed] = entry with { HeardThisRound = false };
                else if (entry.Answer != NoAnswer)
                {
                    _seeds[seed] = new Entry(NoAnswer, null, now, false, Unheard: 1);
                    lines.Add(Describe(seed, _seeds[seed]));
                }
                else _seeds[seed] = entry with { Unheard = entry.Unheard + 1 };
            }
            _rounds = FormsNow() ? _rounds + 1 : 0;
            return lines;
        }
    }

    /// <summary>How many probe rounds in a row have ended without an answer from <paramref name="seed"/>.</summary>
    public int Unheard(string seed)
    {
        lock (_lock) return _seeds.TryGetValue(seed, out var entry) ? entry.Unheard : 0;
    }

    /// <summary>
    /// True when this node should form the mesh again by joining itself: no node it knows
    /// answers as a member, the ones that answer "not a member" are, with this node, more than
    /// half of the nodes it knows, this node has the lowest address among them, and that has
    /// held for <see cref="FormingRounds"/> rounds. That is the case after the resolver downed
    /// every member (all of them starting again, each waiting for a mesh to join), or after a
    /// whole-mesh restart; each of them reaches the same decision, so exactly one forms and the
    /// others join it. A node cut off from the others hears no answer and never forms one of
    /// its own, nor does a minority that can only hear itself.
    /// </summary>
    public bool ShouldForm()
    {
        lock (_lock) return !_joined && _rounds >= FormingRounds;
    }

    private bool FormsNow()
    {
        if (_seeds.Values.Any(e => e.Answer == Member)) return false;
        var waiting = _seeds.Where(s => s.Value.Answer == NotMember).Select(s => s.Key).ToArray();
        return (1 + waiting.Length) * 2 > 1 + _seeds.Count && waiting.All(s => string.CompareOrdinal(_self, s) < 0);
    }

    private static string Describe(string seed, Entry entry) => entry.Answer switch
    {
        Member => $"join through {seed}: it answers, a member ({entry.Status})",
        NotMember => $"join through {seed}: it answers, but is not a member of a mesh (starting, or looking for one itself)",
        _ => $"join through {seed}: no answer since {entry.Since:u}",
    };
}
