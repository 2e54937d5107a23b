/*
 * fuzz_text.c - libFuzzer target for the text layer and the content rule:
 * arbitrary bytes through the tokenizer, case folding, WordNet morphology
 * and ps_policy_check.  Build with clang -DPICSEEK_FUZZ=ON; needs the
 * WordNet database (the policy part is skipped without it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "policy/policy.h"
#include "text/tokenize.h"
#include "text/wordnet.h"

static ps_policy *policy; /* loaded once per fuzzing process */
static int tried;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ps_error err;
    if (!tried) {
        tried = 1;
        policy = ps_policy_load(NULL, &err);
    }
    const char *text = (const char *)data;
    ps_tokens toks;
    if (ps_tokenize(text, size, 64, &toks, &err) == 0) {
        for (size_t i = 0; i < toks.n; i++) {
            if (strlen(toks.v[i].text) != toks.v[i].len || toks.v[i].len == 0)
                abort();
            ps_is_stopword(toks.v[i].text, toks.v[i].len);
            ps_wn_lemmas l;
            ps_wn_rule_forms(PS_WN_VERB, toks.v[i].text, toks.v[i].len, &l);
        }
        ps_tokens_free(&toks);
    }
    ps_buf b = {0};
    ps_casefold(text, size, &b, &err);
    ps_buf_free(&b);
    if (policy) {
        ps_policy_result r;
        if (ps_policy_check(policy, text, size, &r, &err) == 0 && r.blocked != (r.nmatched > 0))
            abort();
    }
    return 0;
}
