# Reference values for lerendtransformeren.multilevel.marginal (estimated marginal means).
#
# Fits the models below with lmerTest::lmer (REML unless stated; tight optimiser
# tolerances, so that the reference itself is converged) on trial.csv (written by
# make_data.py) and stores, per query, emmeans' table (as.data.frame of summary(...,
# infer = c(TRUE, TRUE)) for contrasts, summary(...) for means), its footnotes
# (attr(, "mesg")) and messages (the note when "tukey" becomes "sidak"), its linear
# functions (@linfct, row-major), whether emmeans would note "involvement in interactions"
# (.some.term.contains), and the model's theta, sigma and fixed effects, so that the tests
# can evaluate our machinery at lme4's estimates as well as at our own.
#
# Degrees of freedom: emmeans(..., lmer.df = "satterthwaite") (lmerTest::calcSatterth, i.e.
# contestMD of each linear function) and lmer.df = "kenward-roger" (pbkrtest::vcovAdj for
# the covariance, pbkrtest::Lb_ddf for the df). Adjustments: contrast(..., adjust = ).
#
# GLMMs (glmer, Laplace, tight tolerances as tests/reference/glmm) on binary.csv: emmeans
# on the link scale (Wald z, df = Inf) and with type = "response" (probabilities, rates;
# odds or rate ratios for contrasts); their fixed effects and vcov() are stored too.
#
# Python formulas use patsy spelling: factor(wave) in R is C(wave), I(wave^2) is
# I(wave**2). Writes reference.json next to this script; versions in "_meta".
#
#   Rscript tests/reference/emmeans/make_reference.R

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(emmeans)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
trial <- read.csv(file.path(here, "trial.csv"), stringsAsFactors = TRUE)
binary <- read.csv(file.path(here, "binary.csv"), stringsAsFactors = TRUE)
ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, maxeval = 1e5),
                    check.conv.singular = "ignore")
emm_options(msg.interaction = FALSE)  # the interaction note is stored from .some.term.contains

models <- list(
  nest3 = list(r = y ~ factor(wave) * factor(offer) + sex + ses + (1 | org/team/person),
               py = "y ~ C(wave) * C(offer) + sex + ses + (1 | org/team/person)", reml = TRUE),
  nest3_ml = list(r = y ~ factor(wave) * factor(offer) + sex + ses + (1 | org/team/person),
                  py = "y ~ C(wave) * C(offer) + sex + ses + (1 | org/team/person)", reml = FALSE),
  slope = list(r = y ~ wave * cond + ses + (1 + wave | person) + (1 | org),
               py = "y ~ wave * cond + ses + (1 + wave | person) + (1 | org)", reml = TRUE),
  quad = list(r = y ~ wave + I(wave^2) + factor(offer) + sex + (1 | org/team),
              py = "y ~ wave + I(wave**2) + C(offer) + sex + (1 | org/team)", reml = TRUE)
)

glmm_models <- list(
  bin = list(r = y ~ factor(wave) + factor(offer) + x + (1 | org/team), family = "binomial",
             py = "y ~ C(wave) + C(offer) + x + (1 | org/team)"),
  pois = list(r = count ~ wave + factor(offer) + (1 | org/team), family = "poisson",
              py = "count ~ wave + C(offer) + (1 | org/team)")
)
tight <- glmerControl(tolPwrss = 1e-12,
                      optCtrl = list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-10, maxfun = 1e5))

q <- function(model, specs, by = NULL, at = NULL, method = NULL, adjust = NULL, level = 0.95,
              ddf = c("satterthwaite", "kenward-roger"), type = NULL) {
  lapply(ddf, function(d) list(model = model, specs = specs, by = by, at = at, method = method,
                               adjust = adjust, level = level, ddf = d, type = type))
}
g <- function(...) q(..., ddf = "asymptotic")
queries <- c(
  # means: by, averaged over factors, all cells, a numeric covariate in at, a restricted factor
  q("nest3", "offer", by = "wave"),
  q("nest3", "offer"),
  q("nest3", c("offer", "wave")),
  q("nest3", "sex", by = "ses", at = list(ses = c(-1, 1))),
  q("nest3", "offer", by = "wave", at = list(wave = c(0, 3)), level = 0.9),
  q("nest3_ml", "offer", by = "wave", ddf = "satterthwaite"),
  q("slope", "cond", by = "wave", at = list(wave = c(0, 1.5, 3))),
  q("slope", "cond"),
  q("quad", "wave", by = "offer", at = list(wave = c(0, 1, 2, 3))),
  # contrasts
  q("nest3", "wave", by = "offer", method = "pairwise", adjust = "tukey"),
  q("nest3", "wave", by = "offer", method = "pairwise", adjust = "holm"),
  q("nest3", "wave", by = "offer", method = "pairwise", adjust = "bonferroni"),
  q("nest3", "wave", by = "offer", method = "pairwise", adjust = "none", level = 0.9),
  q("nest3", "wave", method = "revpairwise", adjust = "tukey"),
  q("nest3", c("offer", "wave"), method = "pairwise", adjust = "tukey"),
  q("nest3", "wave", by = "offer", method = "trt.vs.ctrl", adjust = "tukey"),
  q("nest3", "wave", by = "offer", method = "consec", adjust = "sidak"),
  q("nest3", "offer", by = "wave", method = "pairwise", adjust = "tukey"),
  q("nest3_ml", "wave", method = "pairwise", adjust = "tukey", ddf = "satterthwaite"),
  q("slope", "cond", by = "wave", at = list(wave = c(0, 3)), method = "pairwise", adjust = "tukey"),
  q("slope", "cond", method = "trt.vs.ctrl", adjust = "holm"),
  q("slope", "wave", by = "cond", at = list(wave = c(0, 1.5, 3)), method = "consec", adjust = "none"),
  q("quad", "wave", at = list(wave = c(0, 1, 2, 3)), method = "pairwise", adjust = "tukey"),
  # GLMMs: link and response scale
  g("bin", "offer"),
  g("bin", "offer", by = "wave", type = "response"),
  g("bin", "wave", method = "pairwise", adjust = "tukey"),
  g("bin", "wave", method = "pairwise", adjust = "holm", type = "response"),
  g("bin", "offer", type = "response", method = "pairwise", adjust = "none"),
  g("pois", "offer", by = "wave", at = list(wave = c(0, 1, 2, 3)), type = "response"),
  g("pois", "wave", at = list(wave = c(0, 1.5, 3)), method = "consec", adjust = "bonferroni"),
  g("pois", "wave", at = list(wave = c(0, 1.5, 3)), method = "revpairwise", adjust = "tukey",
    type = "response")
)

fits <- list()
out_models <- list()
for (nm in names(models)) {
  md <- models[[nm]]
  m <- lmerTest::lmer(md$r, data = trial, REML = md$reml, control = ctrl)
  fits[[nm]] <- m
  out_models[[nm]] <- list(formula_r = deparse(md$r), formula = md$py, reml = md$reml,
                           theta = unname(getME(m, "theta")), sigma = sigma(m),
                           beta = unname(fixef(m)), terms = names(fixef(m)))
}

for (nm in names(glmm_models)) {
  md <- glmm_models[[nm]]
  m <- withCallingHandlers(  # bobyqa (stage 1) ignores the Nelder-Mead settings: say nothing
    glmer(md$r, data = binary, family = md$family, control = tight),
    warning = function(w) if (grepl("unused control arguments", conditionMessage(w))) invokeRestart("muffleWarning"))
  fits[[nm]] <- m
  out_models[[nm]] <- list(formula_r = deparse(md$r), formula = md$py, family = md$family,
                           theta = unname(getME(m, "theta")), beta = unname(fixef(m)),
                           vcov = unname(as.matrix(vcov(m))), terms = names(fixef(m)))
}

rows <- list()
for (i in seq_along(queries)) {
  qq <- queries[[i]]
  m <- fits[[qq$model]]
  messages <- character(0)
  withCallingHandlers({
    e <- if (qq$ddf == "asymptotic") emmeans(m, qq$specs, by = qq$by, at = qq$at, type = qq$type)
         else emmeans(m, qq$specs, by = qq$by, at = qq$at, lmer.df = qq$ddf)
    if (is.null(qq$method)) {
      s <- summary(e, level = qq$level)
      obj <- e
    } else {
      obj <- contrast(e, method = qq$method, adjust = qq$adjust)
      s <- summary(obj, infer = c(TRUE, TRUE), level = qq$level)
    }
  }, message = function(msg) {
    messages <<- c(messages, trimws(gsub("\\s+", " ", conditionMessage(msg))))
    invokeRestart("muffleMessage")
  })
  interaction_note <- emmeans:::.some.term.contains(union(qq$specs, qq$by), terms(m))
  tab <- as.data.frame(s)
  for (col in names(tab)) if (is.factor(tab[[col]])) tab[[col]] <- as.character(tab[[col]])
  rows[[i]] <- c(qq, list(table = tab, mesg = attr(s, "mesg"), messages = messages,
                          interaction_note = interaction_note,
                          linfct = unname(obj@linfct)))
}

out <- list(models = out_models, queries = rows,
            `_meta` = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                           lmerTest = as.character(packageVersion("lmerTest")),
                           pbkrtest = as.character(packageVersion("pbkrtest")),
                           emmeans = as.character(packageVersion("emmeans"))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, matrix = "rowmajor",
                  dataframe = "columns", null = "null"),
           file.path(here, "reference.json"))
