# References for tests/formula.rs and tests/cli.rs, computed with R's lme4,
# lmerTest and pbkrtest (Debian packages r-cran-lme4, r-cran-lmertest,
# r-cran-pbkrtest). Nothing in CI runs this; its output is checked in as
# tests/data/r/references.json.
#
#   cd tests/data && Rscript r/make_references.R
#
# Fits use tight optimizer tolerances so that the references are the true
# optima, not lme4's default stopping point.
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))

ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(ftol_abs = 1e-15, xtol_abs = 1e-13,
                                   ftol_rel = 1e-15, xtol_rel = 1e-13,
                                   maxeval = 100000),
                    calc.derivs = FALSE)

datasets <- list(
  john_alpha = list(file = "john_alpha.csv",
                    formula = "yield ~ rep + (1|gen) + (1|rep:block)"),
  crossed_2000 = list(file = "crossed_2000.csv",
                      formula = "y ~ 1 + x1 + (1|f1) + (1|f2)"),
  sleepstudy = list(file = "sleepstudy.csv",
                    formula = "Reaction ~ Days + (Days|Subject)"),
  dyestuff = list(file = "Dyestuff.csv", formula = "Yield ~ 1 + (1|Batch)"),
  penicillin = list(file = "Penicillin.csv",
                    formula = "diameter ~ 1 + (1|plate) + (1|sample)")
)

read <- function(file) read.csv(file, stringsAsFactors = TRUE)

describe <- function(m) {
  vc <- as.data.frame(VarCorr(m))
  list(
    reml = isREML(m),
    n = nobs(m),
    groups = as.list(ngrps(m)),
    varcorr = lapply(seq_len(nrow(vc)), function(i) list(
      grp = vc$grp[i],
      var1 = if (is.na(vc$var1[i])) NULL else vc$var1[i],
      var2 = if (is.na(vc$var2[i])) NULL else vc$var2[i],
      vcov = vc$vcov[i])),
    beta_names = names(fixef(m)),
    beta = unname(fixef(m)),
    beta_se = unname(sqrt(diag(as.matrix(vcov(m))))),
    loglik = as.numeric(logLik(m)),
    deviance_or_remlcrit = if (isREML(m)) as.numeric(REMLcrit(m)) else as.numeric(deviance(m)),
    aic = AIC(m),
    bic = BIC(m)
  )
}

fits <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  data <- read(d$file)
  f <- as.formula(d$formula)
  reml <- lme4::lmer(f, data = data, REML = TRUE, control = ctrl)
  ml <- lme4::lmer(f, data = data, REML = FALSE, control = ctrl)
  fits[[name]] <- list(data = d$file, formula = d$formula,
                       reml = describe(reml), ml = describe(ml))
}

# Likelihood-ratio test of nested models: sleepstudy with and without the
# random slope (and its covariance). anova() refits both by ML; with
# refit = FALSE it compares the REML fits (valid: same fixed effects).
sleep <- read("sleepstudy.csv")
m0 <- lme4::lmer(Reaction ~ Days + (1|Subject), data = sleep, REML = TRUE, control = ctrl)
m1 <- lme4::lmer(Reaction ~ Days + (Days|Subject), data = sleep, REML = TRUE, control = ctrl)
lrt <- function(a) list(
  chisq = a$Chisq[2], df = a$Df[2], p_value = a[["Pr(>Chisq)"]][2],
  loglik = a$logLik, npar = a$npar)
lrts <- list(
  sleepstudy_slope = list(
    m0 = "Reaction ~ Days + (1|Subject)",
    m1 = "Reaction ~ Days + (Days|Subject)",
    ml = lrt(anova(m0, m1, refit = TRUE)),
    reml = lrt(anova(m0, m1, refit = FALSE))))

# F tests of the fixed-effect terms with Satterthwaite and Kenward-Roger
# denominator degrees of freedom (lmerTest; KR via pbkrtest).
ftest <- function(file, formula) {
  data <- read(file)
  m <- lmerTest::lmer(as.formula(formula), data = data, REML = TRUE, control = ctrl)
  one <- function(ddf) {
    a <- anova(m, ddf = ddf)
    lapply(setNames(seq_len(nrow(a)), rownames(a)), function(i) list(
      num_df = a$NumDF[i], den_df = a$DenDF[i], f = a[["F value"]][i],
      p_value = a[["Pr(>F)"]][i]))
  }
  list(data = file, formula = formula,
       satterthwaite = one("Satterthwaite"), kenward_roger = one("Kenward-Roger"))
}
ftests <- list(
  john_alpha = ftest("john_alpha.csv", "yield ~ rep + (1|gen) + (1|rep:block)"),
  sleepstudy = ftest("sleepstudy.csv", "Reaction ~ Days + (Days|Subject)"))

out <- list(
  source = paste0(R.version.string, "; lme4 ", packageVersion("lme4"),
                  ", lmerTest ", packageVersion("lmerTest"),
                  ", pbkrtest ", packageVersion("pbkrtest"),
                  "; nloptwrap with ftol/xtol 1e-15/1e-13 (true optima); ",
                  "made by tests/data/r/make_references.R"),
  fits = fits, lrt = lrts, f_tests = ftests)
write_json(out, "r/references.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, null = "null", na = "null")
cat("wrote r/references.json\n")
