using System.Diagnostics;
using System.Globalization;
using CsCheck;

namespace Mesh.Fuzzing;

/// <summary>
/// Runs a property over a fixed number of generated inputs, drawn from a fixed seed, so that
/// every run (and CI) checks the same inputs and a failure can be replayed. Each case has a
/// CsCheck seed of its own, printed on failure together with the input; on failure CsCheck also
/// shrinks from that case and prints the smallest failing input it finds.
/// <c>MESH_FUZZ_SEED</c> (a number) and <c>MESH_FUZZ_CASES</c> (a count) override the fixed
/// seed and count, to explore further locally.
/// </summary>
public static class FuzzCases
{
    /// <summary>The PCG stream of every case: the seed chooses the inputs, this only has to stay put.</summary>
    private const uint Stream = 1;

    private static readonly TimeSpan ShrinkBudget = TimeSpan.FromSeconds(20);

    public static ulong Seed(ulong fixedSeed) =>
        ulong.TryParse(Environment.GetEnvironmentVariable("MESH_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : fixedSeed;

    public static int Count(int fixedCount) =>
        int.TryParse(Environment.GetEnvironmentVariable("MESH_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fixedCount;

    /// <summary>The inputs of one run: case <c>i</c> is generated from its own PCG seeded with <c>seed + i</c>.</summary>
    public static IEnumerable<(int Index, string CaseSeed, T Value)> Generate<T>(Gen<T> gen, ulong seed, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var pcg = new PCG(Stream, seed + (ulong)i);
            var caseSeed = pcg.ToString();
            yield return (i, caseSeed, gen.Generate(pcg, null!, out _));
        }
    }

    /// <summary>
    /// Checks <paramref name="property"/> on every case; each case must end within
    /// <paramref name="perCase"/> (it runs on a worker, so a hang fails the test instead of stalling it).
    /// </summary>
    public static void Check<T>(string what, Gen<T> gen, ulong fixedSeed, int fixedCount, TimeSpan perCase, Action<T> property, Func<T, string> print)
    {
        var seed = Seed(fixedSeed);
        var count = Count(fixedCount);
        foreach (var (i, caseSeed, value) in Generate(gen, seed, count))
        {
            var run = Task.Run(() => property(value));
            Exception? failure = null;
            try
            {
                if (!run.Wait(perCase)) failure = new TimeoutException($"the case did not end within {perCase.TotalSeconds:0.#} s");
            }
            catch (AggregateException e)
            {
                failure = e.InnerException ?? e;
            }
            if (failure is not null)
                throw new FuzzFailure(Describe(what, seed, count, i, caseSeed, print(value), failure) + Shrink(gen, caseSeed, property, print), failure);
        }
    }

    /// <summary>The same for an asynchronous property (one case at a time, in order).</summary>
    public static async Task CheckAsync<T>(string what, Gen<T> gen, ulong fixedSeed, int fixedCount, TimeSpan perCase, Func<T, Task> property, Func<T, string> print)
    {
        var seed = Seed(fixedSeed);
        var count = Count(fixedCount);
        foreach (var (i, caseSeed, value) in Generate(gen, seed, count))
        {
            Exception? failure = null;
            var run = property(value);
            try
            {
                await run.WaitAsync(perCase);
            }
            catch (TimeoutException) when (!run.IsCompleted)
            {
                failure = new TimeoutException($"the case did not end within {perCase.TotalSeconds:0.#} s");
            }
            catch (Exception e)
            {
                failure = e;
            }
            if (failure is not null) throw new FuzzFailure(Describe(what, seed, count, i, caseSeed, print(value), failure), failure);
        }
    }

    private static string Describe(string what, ulong seed, int count, int index, string caseSeed, string input, Exception failure) => $"""
        {what}: case {index} of {count} (seed {seed}) failed: {failure.GetType().Name}: {failure.Message}
        input: {Cut(input)}
        replay: MESH_FUZZ_SEED={seed + (ulong)index} MESH_FUZZ_CASES=1, or CsCheck seed "{caseSeed}" (gen.Sample(property, seed: "{caseSeed}", iter: 1))
        """;

    /// <summary>Lets CsCheck look for a smaller failing input, starting from the failing case; bounded in time.</summary>
    private static string Shrink<T>(Gen<T> gen, string caseSeed, Action<T> property, Func<T, string> print)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            gen.Sample(v =>
            {
                if (clock.Elapsed > ShrinkBudget) return;
                var run = Task.Run(() => property(v));
                if (!run.Wait(TimeSpan.FromSeconds(5))) throw new TimeoutException("hangs");
                run.GetAwaiter().GetResult();
            }, seed: caseSeed, iter: 2000, threads: 1, print: v => Cut(print(v)));
            return "";
        }
        catch (CsCheckException e)
        {
            return $"\nshrunk by CsCheck: {e.Message}";
        }
    }

    /// <summary>An input as one printable line: control characters escaped, long inputs cut in the middle.</summary>
    public static string Cut(string text)
    {
        var escaped = string.Concat(text.Select(c => c switch
        {
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\\' => "\\\\",
            _ when char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\uFEFF' => $"\\u{(int)c:X4}",
            _ => c.ToString(),
        }));
        return escaped.Length <= 4000 ? escaped : $"{escaped[..2000]} … ({escaped.Length - 4000} characters cut) … {escaped[^2000..]}";
    }
}

/// <summary>A property that did not hold for a generated input; the message says how to replay it.</summary>
public sealed class FuzzFailure(string message, Exception inner) : Exception(message, inner);
