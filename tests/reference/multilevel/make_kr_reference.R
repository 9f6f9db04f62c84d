# Kenward-Roger reference values for lerendtransformeren.multilevel.kenward_roger.
#
# Fits REML cases on the data sets of make_reference.R (written by make_data.py) with
# lmerTest::lmer (tight optimiser tolerances, so that the reference itself is converged) and
# stores, per case:
#   fixed: summary(m, ddf = "Kenward-Roger") -- KR se (sqrt of the diagonal of
#          pbkrtest::vcovAdj), df (pbkrtest::Lb_ddf), t, p -- and the model-based se;
#   anova: anova(m, type = 3, ddf = "Kenward-Roger") -- F (scaled, pbkrtest::KRmodcomp),
#          NumDF, DenDF, p;
#   vcov_adj: pbkrtest::vcovAdj(m) (row-major);
#   contrast (where given): lmerTest::contest(m, L, ddf = "Kenward-Roger", joint = TRUE).
# Writes kr_reference.json next to this script. Versions in "_meta". Python formulas use
# patsy spelling (C(cond)); R's factor(wave)1 is C(wave)[T.1] in Python.
#
#   Rscript tests/reference/multilevel/make_kr_reference.R

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
read <- function(name) read.csv(file.path(here, paste0(name, ".csv")), stringsAsFactors = TRUE)
ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, maxeval = 1e5),
                    check.conv.singular = "ignore")

cases <- list(
  list(name = "ri2", data = "ri2", r = y ~ x + z + (1 | g), py = "y ~ x + z + (1 | g)"),
  list(name = "balanced", data = "balanced", r = y ~ x + z + (1 | g), py = "y ~ x + z + (1 | g)"),
  list(name = "nest3", data = "nest",
       r = y ~ wave * offer + ses + size + (1 | org/team/resp),
       py = "y ~ wave * offer + ses + size + (1 | org/team/resp)",
       contrast = rbind(c(0, 1, 0, 0, 0, 0), c(0, 0, 0, 0, 0, 1))),
  list(name = "slope_resp", data = "slope", r = y ~ wave + x + (1 + wave | resp) + (1 | org),
       py = "y ~ wave + x + (1 + wave | resp) + (1 | org)"),
  list(name = "slope_org", data = "slope", r = y ~ wave + x + (1 + wave | org) + (1 | resp),
       py = "y ~ wave + x + (1 + wave | org) + (1 | resp)"),
  list(name = "uncorr", data = "slope", r = y ~ wave + x + (1 | resp) + (0 + wave | resp) + (1 | org),
       py = "y ~ wave + x + (1 | resp) + (0 + wave | resp) + (1 | org)"),
  list(name = "unbal3", data = "unbal3", r = y ~ wave + orgx + (1 + wave | person) + (1 | org),
       py = "y ~ wave + orgx + (1 + wave | person) + (1 | org)"),
  list(name = "singular", data = "singular", r = y ~ x + (1 | org/team), py = "y ~ x + (1 | org/team)"),
  list(name = "factor", data = "factor", r = y ~ cond * wave + (1 | g), py = "y ~ C(cond) * wave + (1 | g)"),
  list(name = "synthetic", data = "synthetic",
       r = mastery ~ factor(wave) + offer + (1 | organisation/team/professional/family),
       py = "mastery ~ C(wave) + offer + (1 | organisation/team/professional/family)")
)

out <- list()
for (cs in cases) {
  d <- read(cs$data)
  m <- lmerTest::lmer(cs$r, data = d, REML = TRUE, control = ctrl)
  co <- summary(m, ddf = "Kenward-Roger")$coefficients
  a <- anova(m, type = 3, ddf = "Kenward-Roger")
  va <- as.matrix(pbkrtest::vcovAdj(m))
  res <- list(
    data = cs$data, formula_r = deparse(cs$r), formula = cs$py,
    singular = isSingular(m), theta = unname(getME(m, "theta")), sigma = sigma(m),
    fixed = list(term = rownames(co), estimate = unname(co[, 1]), se = unname(co[, 2]),
                 df = unname(co[, 3]), t = unname(co[, 4]), p = unname(co[, 5]),
                 se_model = unname(sqrt(diag(as.matrix(vcov(m)))))),
    anova = list(term = rownames(a), F = a[["F value"]], numdf = a$NumDF, dendf = a$DenDF,
                 p = a[["Pr(>F)"]]),
    vcov_adj = unname(va)
  )
  if (!is.null(cs$contrast)) {
    ct <- contest(m, cs$contrast, joint = TRUE, ddf = "Kenward-Roger")
    res$contrast <- list(L = cs$contrast, F = ct[["F value"]], numdf = ct$NumDF,
                         dendf = ct$DenDF, p = ct[["Pr(>F)"]])
  }
  out[[cs$name]] <- res
}
out$`_meta` <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                    lmerTest = as.character(packageVersion("lmerTest")),
                    pbkrtest = as.character(packageVersion("pbkrtest")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, matrix = "rowmajor"),
           file.path(here, "kr_reference.json"))
