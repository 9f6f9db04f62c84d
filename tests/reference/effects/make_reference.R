# Reference values for lerendtransformeren.multilevel.effects (ICC, R2, standardised effects).
#
# Fits every case with lme4::lmer (tight optimiser tolerances, so that the reference itself
# is converged) and stores performance::icc, performance::icc(by_group = TRUE),
# performance::r2_nakagawa, the variance components of insight::get_variance and the
# lmerTest Satterthwaite intervals; writes reference.json next to this script.
# Input: the CSVs written by make_data.py.
#
#   .venv/bin/python tests/reference/effects/make_data.py
#   Rscript tests/reference/effects/make_reference.R

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(performance)
  library(insight)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
read <- function(name) read.csv(file.path(here, paste0(name, ".csv")), stringsAsFactors = TRUE)
ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, maxeval = 1e5),
                    check.conv.singular = "ignore")

# Python formulas use patsy spelling; lme4 names the grouping of (1 | a/b) "b:a".
cases <- list(
  list(name = "ri2", data = "ri2",
       r = y ~ x + z + (1 | g), py = "y ~ x + z + (1 | g)"),
  list(name = "fam4", data = "families",
       r = mastery_total ~ wave + offer + (1 | organisation/team/professional/family),
       py = "mastery_total ~ wave + offer + (1 | organisation/team/professional/family)"),
  list(name = "fam4_null", data = "families",
       r = mastery_total ~ 1 + (1 | organisation/team/professional/family),
       py = "mastery_total ~ 1 + (1 | organisation/team/professional/family)"),
  list(name = "slope", data = "families",
       r = sdq_total ~ wave + offer + (1 + wave | family) + (1 | organisation),
       py = "sdq_total ~ wave + offer + (1 + wave | family) + (1 | organisation)")
)

out <- list(`_about` = paste(
  "lme4", packageVersion("lme4"), "lmerTest", packageVersion("lmerTest"),
  "performance", packageVersion("performance"), "insight", packageVersion("insight"),
  "- written by make_reference.R"))
for (cs in cases) {
  d <- read(cs$data)
  m <- lmerTest::lmer(cs$r, data = d, REML = TRUE, control = ctrl)
  ic <- performance::icc(m)
  # by group only for random intercepts: with slopes performance divides the intercept
  # variance alone and warns that the result is not accurate
  slopes <- !is.null(insight::find_random_slopes(m))
  by_group <- if (slopes) NULL else performance::icc(m, by_group = TRUE)
  r2 <- performance::r2_nakagawa(m)
  v <- insight::get_variance(m)
  co <- summary(m)$coefficients
  crit <- qt(0.975, co[, "df"])
  vc <- as.data.frame(VarCorr(m))
  out[[cs$name]] <- list(
    data = cs$data, formula_r = deparse(cs$r, width.cutoff = 500L), formula = cs$py,
    nobs = nobs(m), ngrps = as.list(ngrps(m)),
    varcorr = list(grp = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov),
    theta = unname(getME(m, "theta")), sigma = sigma(m), reml_criterion = REMLcrit(m),
    fixed = list(term = rownames(co), estimate = unname(co[, 1]), se = unname(co[, 2]),
                 df = unname(co[, 3]),
                 ci_low = unname(co[, 1] - crit * co[, 2]),
                 ci_high = unname(co[, 1] + crit * co[, 2])),
    icc_adjusted = ic$ICC_adjusted, icc_unadjusted = ic$ICC_unadjusted,
    icc_by_group = if (slopes) NULL else list(group = by_group$Group, icc = by_group$ICC),
    r2_marginal = unname(r2$R2_marginal), r2_conditional = unname(r2$R2_conditional),
    var_fixed = v$var.fixed, var_random = v$var.random, var_residual = v$var.residual,
    var_intercept = as.list(v$var.intercept)
  )
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, "reference.json"))
