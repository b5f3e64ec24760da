using Mesh.Node.Membership;

namespace Mesh.Node.Tests.Membership;

/// <summary>What a node that has not joined reports of its seeds, and when it forms the mesh again itself.</summary>
public sealed class SeedAnswersTests
{
    private const string A = "akka.tcp://mesh@10.0.0.2:4710";
    private const string B = "akka.tcp://mesh@10.0.0.3:4710";
    private const string C = "akka.tcp://mesh@10.0.0.4:4710";
    private const string D = "akka.tcp://mesh@10.0.0.5:4710";
    private const string E = "akka.tcp://mesh@10.0.0.6:4710";
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 6, 0, 0, TimeSpan.Zero);

    /// <summary>Runs <paramref name="rounds"/> probe rounds in which <paramref name="answers"/> (seed, status) come back.</summary>
    private static void Rounds(SeedAnswers seeds, int rounds, params (string Seed, string? Status)[] answers)
    {
        for (var i = 1; i <= rounds; i++)
        {
            foreach (var (seed, status) in answers) seeds.Heard(seed, status, T0.AddSeconds(5 * i));
            seeds.RoundEnded(T0.AddSeconds(5 * i + 1));
        }
    }

    [Fact]
    public void Every_seed_is_listed_with_its_answer_and_since_when_and_a_silent_one_as_no_answer()
    {
        var seeds = new SeedAnswers(C, [A, B, C], T0);
        Assert.Equal("join through akka.tcp://mesh@10.0.0.2:4710: it answers, a member (up)", seeds.Heard(A, "up", T0.AddSeconds(1)));
        Assert.Null(seeds.Heard(A, "up", T0.AddSeconds(2)));
        Assert.Empty(seeds.RoundEnded(T0.AddSeconds(5)));

        var now = seeds.Current;
        Assert.Equal([A, B], now.Select(s => s.Address));
        Assert.Equal((SeedAnswers.Member, "up", T0.AddSeconds(1)), (now[0].Answer, now[0].Status, now[0].Since));
        Assert.Equal((SeedAnswers.NoAnswer, (string?)null, T0), (now[1].Answer, now[1].Status, now[1].Since));

        // A seed that stops answering: no answer since the round it missed.
        var lines = seeds.RoundEnded(T0.AddSeconds(10));
        Assert.Equal([$"join through {A}: no answer since {T0.AddSeconds(10):u}"], lines);
        Assert.Equal((SeedAnswers.NoAnswer, T0.AddSeconds(10)), (seeds.Current[0].Answer, seeds.Current[0].Since));

        seeds.Joined();
        Assert.Empty(seeds.Current);
    }

    [Fact]
    public void The_rounds_in_a_row_without_an_answer_are_counted_per_seed_and_an_answer_starts_the_count_again()
    {
        var seeds = new SeedAnswers(C, [A, B], T0);
        Assert.Equal((0, 0), (seeds.Unheard(A), seeds.Unheard(B)));
        Rounds(seeds, 2, (A, "up"));
        Assert.Equal((0, 2), (seeds.Unheard(A), seeds.Unheard(B)));

        // A stops answering; B answers once.
        Rounds(seeds, 3, (B, null));
        Assert.Equal((3, 0), (seeds.Unheard(A), seeds.Unheard(B)));
        Rounds(seeds, 1);
        Assert.Equal((4, 1), (seeds.Unheard(A), seeds.Unheard(B)));
        Assert.Equal(0, seeds.Unheard(D));
    }

    [Fact]
    public void When_every_known_node_answers_but_none_is_a_member_the_lowest_address_forms_the_mesh_and_only_it()
    {
        var a = new SeedAnswers(A, [A, B, C], T0);
        var b = new SeedAnswers(B, [A, B, C], T0);
        Rounds(a, SeedAnswers.FormingRounds, (B, null), (C, null));
        Rounds(b, SeedAnswers.FormingRounds, (A, null), (C, null));
        Assert.True(a.ShouldForm());
        Assert.False(b.ShouldForm());
    }

    [Fact]
    public void It_does_not_form_before_the_answers_held_for_the_rounds_it_waits()
    {
        var a = new SeedAnswers(A, [B, C], T0);
        Rounds(a, SeedAnswers.FormingRounds - 1, (B, null), (C, null));
        Assert.False(a.ShouldForm());
    }

    [Fact]
    public void A_member_among_the_answers_means_joining_it_not_forming()
    {
        var a = new SeedAnswers(A, [B, C], T0);
        Rounds(a, 3, (B, null), (C, "up"));
        Assert.False(a.ShouldForm());
    }

    [Fact]
    public void A_node_cut_off_or_a_minority_never_forms_a_mesh_of_its_own()
    {
        var alone = new SeedAnswers(A, [B, C], T0);
        Rounds(alone, 3);
        Assert.False(alone.ShouldForm());

        // Two of five hear each other, not the other three: the three may still be a mesh.
        var minority = new SeedAnswers(A, [B, C, D, E], T0);
        Rounds(minority, 3, (B, null));
        Assert.False(minority.ShouldForm());

        // Three of five do: a majority, and no member among those that answer.
        var majority = new SeedAnswers(A, [B, C, D, E], T0);
        Rounds(majority, SeedAnswers.FormingRounds, (B, null), (C, null));
        Assert.True(majority.ShouldForm());
    }
}
